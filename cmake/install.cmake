# What `cmake --install` puts where (docs/install.md).
#
#   <prefix>/bin/event-gateway
#   <prefix>/lib/event-gateway/libeventgateway_etcd.so, libeventgateway_plugin.so   the modules
#   <prefix>/lib/systemd/system/event-gateway.service                                the unit
#   <prefix>/share/doc/event-gateway/                                                README, docs
#   <prefix>/share/event-gateway/proto/plugin/v1/reacter.proto                       the plugin API
#
# The binary finds its modules from its own path (common/module_loader.cpp): next to itself first,
# as in a build directory, then EG_MODULE_DIR_FROM_BINARY, ../lib/event-gateway from bin/. Relative,
# so the tree works in any prefix: /usr/local by default, /usr, a temporary directory
# in the tests (`cmake --install build --prefix /tmp/x`).

include(GNUInstallDirs)

set(EG_INSTALL_MODULE_DIR "${CMAKE_INSTALL_LIBDIR}/event-gateway")
file(RELATIVE_PATH EG_MODULE_DIR_FROM_BINARY "${CMAKE_INSTALL_FULL_BINDIR}"
     "${CMAKE_INSTALL_FULL_LIBDIR}/event-gateway")
target_compile_definitions(eventgateway_core PRIVATE EG_MODULE_DIR_FROM_BINARY="${EG_MODULE_DIR_FROM_BINARY}")

install(TARGETS event-gateway RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
if(EG_WITH_GRPC)
  install(TARGETS eventgateway_etcd_module eventgateway_plugin_module
          LIBRARY DESTINATION "${EG_INSTALL_MODULE_DIR}")
endif()

# The unit names the installed binary by its absolute path, known only at install time: the prefix
# of `cmake --install --prefix`. So it is written then, from its template.
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
