#pragma once
// One running plugin process (docs/plugins.md): started with the gateway's environment plus
// go-plugin's handshake variables and PLUGIN_UNIX_SOCKET_DIR, a directory of its own for its socket
// that is removed once it has exited; its stdin on /dev/null, its stdout and stderr read on the
// io_context it was started on. The first stdout line is the handshake; every later stdout line and
// every stderr line is logged, tagged with the plugin's name. The process dies with the gateway
// (PR_SET_PDEATHSIG), even when the gateway is killed.
//
// Not thread-safe: use it on its io_context's thread. It may be destroyed at any time; a process
// still running then is killed (SIGKILL) and reaped.

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace eg::plugin {

// The cookie of the original gateway's plugins (plugin/shared/handshake.go): a go-plugin plugin
// refuses to run without it, so that a plugin started by hand says what it is instead of waiting.
inline constexpr const char* kMagicCookieKey = "EVENT_GATEWAY_MAGIC_COOKIE";
inline constexpr const char* kMagicCookieValue = "0329c93c-a64c-4eb5-bf72-63172430d433";

class PluginProcess {
 public:
  // Starts the executable `path` (looked up on PATH when it has no '/'); throws std::runtime_error
  // saying why when it cannot be started (no such file, not executable...).
  PluginProcess(boost::asio::io_context& io, const std::string& path, std::string name);
  ~PluginProcess();
  PluginProcess(const PluginProcess&) = delete;
  PluginProcess& operator=(const PluginProcess&) = delete;

  // The first line the plugin printed on stdout, without its line end; nothing when stdout closed
  // first or `deadline` passed.
  boost::asio::awaitable<std::optional<std::string>> handshake_line(
      std::chrono::steady_clock::time_point deadline);
  // Completes once the process has exited (and was reaped), with how: "exited with status 1", "was
  // killed by signal 9"; or with nothing at `deadline`.
  boost::asio::awaitable<std::optional<std::string>> exited(
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());
  // SIGTERM; then SIGKILL if it still runs at `deadline`. Completes once it has exited.
  boost::asio::awaitable<void> stop(std::chrono::steady_clock::time_point deadline);
  // The last lines it wrote on stderr, joined with " / ": what a start error quotes.
  std::string last_stderr() const;
  // The same once its stderr has closed (all of it read), or at `deadline`.
  boost::asio::awaitable<std::string> last_stderr(std::chrono::steady_clock::time_point deadline);
  pid_t pid() const;

  // What the process's readers and watcher share with it, alive until the last of them is done.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace eg::plugin
