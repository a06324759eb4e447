# Precompiled headers: the third-party headers most of the project's files include, parsed once per
# target instead of once per file (Asio, Beast, Boost.JSON and Boost.URL are several seconds
# of parsing each; gtest another two in every test file).
#
# Only headers from outside the project, which change only with a Debian package: a header of src/ in
# a PCH would rebuild the target on every edit of it, and would let a file use it without including
# it. Every file still includes what it uses; the PCH only makes including it cheap. A file that
# forgets a third-party include still compiles inside its target, though, so check that from time to
# time with a build without PCH:
#
#   cmake -S . -B build-nopch -G Ninja -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON
#
# Targets of a file or a few (the gateway's main, test_support, the benchmarks, each harness) get none:
# building their PCH would cost more than it saves. The one exception, test_upstream (tests/), has the
# PCH that both test programs reuse.

# No standard header of its own: those these bring are enough, and each one more puts overloads in
# reach of argument-dependent lookup in files that never asked for them. (<filesystem> brings
# <iomanip>, whose std::quoted then wins over config_service.cpp's own quoted(std::string_view) for
# a std::string argument.)
set(EG_PCH_HEADERS
  <boost/asio/as_tuple.hpp>
  <boost/asio/awaitable.hpp>
  <boost/asio/bind_cancellation_slot.hpp>
  <boost/asio/cancellation_signal.hpp>
  <boost/asio/co_spawn.hpp>
  <boost/asio/detached.hpp>
  <boost/asio/io_context.hpp>
  <boost/asio/ip/tcp.hpp>
  <boost/asio/post.hpp>
  <boost/asio/steady_timer.hpp>
  <boost/asio/this_coro.hpp>
  <boost/asio/use_awaitable.hpp>
  <boost/asio/write.hpp>
  <boost/beast/core.hpp>
  <boost/beast/http.hpp>
  <boost/json.hpp>
  <boost/url/parse.hpp>
  <spdlog/spdlog.h>
)

# eg_precompile_headers(<target> [GTEST]): the headers above, and gtest's with GTEST.
function(eg_precompile_headers target)
  cmake_parse_arguments(PARSE_ARGV 1 EG_PCH "GTEST" "" "")
  set(headers ${EG_PCH_HEADERS})
  if(EG_PCH_GTEST)
    list(APPEND headers <gtest/gtest.h>)
  endif()
  target_precompile_headers(${target} PRIVATE ${headers})
endfunction()
