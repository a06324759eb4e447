# What `cmake --install` puts where, and the Debian package CPack makes of it (docs/install.md).
#
#   <prefix>/bin/event-gateway
#   <prefix>/lib/event-gateway/libeventgateway_etcd.so, libeventgateway_plugin.so   the modules
#   <prefix>/lib/systemd/system/event-gateway.service                                the unit
#   <prefix>/share/doc/event-gateway/                                                README, docs
#   <prefix>/share/event-gateway/proto/plugin/v1/reacter.proto                       the plugin API
#
# The binary finds its modules from its own path (common/module_loader.cpp): next to itself first,
# as in a build directory, then EG_MODULE_DIR_FROM_BINARY, ../lib/event-gateway from bin/. Relative,
# so the tree works in any prefix: /usr in the package, /usr/local by default, a temporary directory
# in the tests (`cmake --install build --prefix /tmp/x`).

include(GNUInstallDirs)

# lib/, not CMAKE_INSTALL_LIBDIR, which is lib/x86_64-linux-gnu on Debian when configured for /usr:
# the modules are the gateway's own, which Debian keeps in /usr/lib/<package>.
set(EG_INSTALL_MODULE_DIR lib/event-gateway)
file(RELATIVE_PATH EG_MODULE_DIR_FROM_BINARY "${CMAKE_INSTALL_FULL_BINDIR}"
     "${CMAKE_INSTALL_PREFIX}/${EG_INSTALL_MODULE_DIR}")
target_compile_definitions(eventgateway_core PRIVATE EG_MODULE_DIR_FROM_BINARY="${EG_MODULE_DIR_FROM_BINARY}")

install(TARGETS event-gateway RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
if(EG_WITH_GRPC)
  install(TARGETS eventgateway_etcd_module eventgateway_plugin_module
          LIBRARY DESTINATION "${EG_INSTALL_MODULE_DIR}")
endif()

# The unit names the installed binary by its absolute path, known only at install time: the prefix
# of `cmake --install --prefix` or CPack's /usr. So it is written then, from its template.
install(CODE "
  set(EG_INSTALLED_BINARY \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/event-gateway\")
  set(EG_INSTALLED_DOCS \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/packaging/event-gateway.service.in\"
                 \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/event-gateway.service\" @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/event-gateway.service\")
")

install(FILES README.md DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY docs/ DESTINATION "${CMAKE_INSTALL_DOCDIR}/docs")
install(FILES proto/plugin/v1/reacter.proto DESTINATION "${CMAKE_INSTALL_DATADIR}/event-gateway/proto/plugin/v1")

# The Debian package: `cpack -G DEB` in a build directory (scripts/package.sh), for bookworm.
# Its dependencies are those of its ELF files, found by dpkg-shlibdeps; the maintainer scripts start
# the service where systemd runs, as debhelper's would, and purge removes its state directory.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME event-gateway)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "routes HTTP requests and events to serverless functions")
set(CPACK_PACKAGE_DESCRIPTION "A C++ implementation of the Serverless Event Gateway: an L7 proxy and \
pub/sub router that turns HTTP requests and custom events into calls of functions (AWS Lambda, Kinesis, \
Firehose, any HTTP endpoint), with the original's APIs, flags and Node SDK. The service runs the \
embedded store on loopback until configured otherwise: /usr/share/doc/event-gateway/docs/install.md.")
set(CPACK_PACKAGE_CONTACT "Event Gateway (C++) maintainers <event-gateway@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Besides what dpkg-shlibdeps finds: libsystemd0, which the gateway loads with dlopen for sd_notify
# (src/app/service_notify.cpp), and init-system-helpers, whose deb-systemd-helper the maintainer
# scripts call.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libsystemd0, init-system-helpers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
