#include "plugin/plugin_process.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "common/text.h"

extern char** environ;

namespace eg::plugin {
namespace asio = boost::asio;

namespace {

constexpr const char* kProtocolVersionsKey = "PLUGIN_PROTOCOL_VERSIONS";
constexpr const char* kProtocolVersions = "1";
// go-plugin's name for the directory a plugin makes its unix socket in.
constexpr const char* kUnixSocketDirKey = "PLUGIN_UNIX_SOCKET_DIR";
// Longer lines are logged in parts: a plugin cannot make the gateway hold an unbounded line.
constexpr std::size_t kMaxLogLine = 16 * 1024;
constexpr std::size_t kStderrTailLines = 5;

// Something that happens once, which several coroutines may wait for, each with a deadline.
class Notice {
 public:
  void notify() {
    happened_ = true;
    for (auto* timer : waiting_) timer->cancel();
  }
  bool happened() const { return happened_; }
  // True once it happened, false at `deadline`.
  asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline) {
    if (happened_) co_return true;
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    waiting_.push_back(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(waiting_, &timer);
    co_return happened_;
  }

 private:
  bool happened_ = false;
  std::vector<asio::steady_timer*> waiting_;
};

// A line of a plugin's output fit for the text log: control characters as \xNN, so that a plugin
// cannot forge the gateway's log lines; UTF-8 stays as it is (the JSON log escapes what it must).
std::string printable(std::string_view line) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string shown;
  shown.reserve(line.size());
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      shown.append("\\x").push_back(kHex[byte >> 4]);
      shown.push_back(kHex[byte & 0xf]);
    } else {
      shown.push_back(c);
    }
  }
  return shown;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// A directory of the process's own for its unix socket, made before it starts and removed once it
// has exited: a plugin killed with SIGKILL cannot remove its socket, and one that crashes again and
// again would leave one behind at each start. mkdtemp makes it 0700, so only the gateway's user can
// reach the plugin through it. It is made in the PLUGIN_UNIX_SOCKET_DIR the gateway was given, if
// any, else in TMPDIR or /tmp.
std::string make_socket_directory(const std::string& path) {
  const char* base = std::getenv(kUnixSocketDirKey);
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = std::string(base) + "/event-gateway-sockets-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot start plugin " + path + ": cannot make a directory for its socket in " +
                             base + ": " + std::strerror(errno));
  }
  return pattern;
}

// The gateway's environment, with the handshake's variables and the socket directory set (over any
// the gateway inherited).
std::vector<std::string> plugin_environment(const std::string& socket_directory) {
  std::vector<std::string> environment;
  const auto is_set_here = [](std::string_view entry) {
    for (const auto* key : {kMagicCookieKey, kProtocolVersionsKey, kUnixSocketDirKey}) {
      if (entry.starts_with(std::string(key) + "=")) return true;
    }
    return false;
  };
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!is_set_here(*entry)) environment.emplace_back(*entry);
  }
  environment.push_back(std::string(kMagicCookieKey) + "=" + kMagicCookieValue);
  environment.push_back(std::string(kProtocolVersionsKey) + "=" + kProtocolVersions);
  environment.push_back(std::string(kUnixSocketDirKey) + "=" + socket_directory);
  return environment;
}

// `path` as execve needs it: searched on PATH when it has no '/', as a shell does. Resolved before
// fork(), since the child of a threaded process may only make async-signal-safe calls.
std::string executable_path(const std::string& path) {
  if (path.find('/') != std::string::npos) return path;
  const char* search = std::getenv("PATH");
  for (const auto directory : common::split(search != nullptr ? search : "/usr/bin:/bin", ':')) {
    auto candidate = std::string(directory.empty() ? "." : directory) + "/" + path;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("cannot start plugin " + path + ": not found on PATH");
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    read = ends[0];
    write = ends[1];
  }
};

void remove_socket_directory(const std::string& directory) {
  std::error_code error;
  std::filesystem::remove_all(directory, error);
  if (error) spdlog::warn("could not remove the plugin socket directory {}: {}", directory, error.message());
}

struct Spawned {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// fork() and execve(), with the child in a process group of its own, so that a Ctrl-C in the
// gateway's terminal reaches the gateway only, which stops its plugins once it has drained (a sync
// plugin must outlive the requests that need it). An exec failure comes back through a close-on-exec
// pipe, so that "no such file" is a start error rather than a plugin that exits with 127.
Spawned spawn(const std::string& path, const std::string& socket_directory) {
  const auto executable = executable_path(path);
  auto environment = plugin_environment(socket_directory);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  std::array<char*, 2> argv{argv0.data(), nullptr};
  const int null_input = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_input < 0) throw std::runtime_error(std::string("/dev/null: ") + std::strerror(errno));
  Pipe out, err, exec_error;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the gateway died before the line above
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    dup2(null_input, STDIN_FILENO);
    dup2(out.write, STDOUT_FILENO);
    dup2(err.write, STDERR_FILENO);
    execve(executable.c_str(), argv.data(), envp.data());
    const int error = errno;
    [[maybe_unused]] auto written = write(exec_error.write, &error, sizeof error);
    _exit(127);
  }
  const int fork_error = errno;
  for (const int fd : {null_input, out.write, err.write, exec_error.write}) close(fd);
  if (pid < 0) {
    for (const int fd : {out.read, err.read, exec_error.read}) close(fd);
    throw std::runtime_error("cannot start plugin " + path + ": fork: " + std::strerror(fork_error));
  }
  int exec_errno = 0;
  ssize_t got;
  do got = read(exec_error.read, &exec_errno, sizeof exec_errno);
  while (got < 0 && errno == EINTR);
  close(exec_error.read);
  if (got > 0) {
    waitpid(pid, nullptr, 0);
    close(out.read);
    close(err.read);
    throw std::runtime_error("cannot start plugin " + path + ": " + std::strerror(exec_errno));
  }
  return Spawned{.pid = pid, .stdout_fd = out.read, .stderr_fd = err.read};
}

}  // namespace

struct PluginProcess::State {
  std::string name;
  pid_t pid;
  std::string socket_directory;  // removed once the process has exited
  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::posix::stream_descriptor exit_watch;  // a pidfd: readable once the process has exited
  std::optional<std::string> handshake;
  Notice handshake_seen;  // the first line, or the end of stdout
  bool reaped = false;
  std::string exit_description;
  Notice exit_seen;
  std::deque<std::string> stderr_tail;
  Notice stderr_closed;

  State(asio::io_context& io, std::string plugin_name, const Spawned& spawned, std::string socket_dir)
      : name(std::move(plugin_name)),
        pid(spawned.pid),
        socket_directory(std::move(socket_dir)),
        out(io, spawned.stdout_fd),
        err(io, spawned.stderr_fd),
        exit_watch(io) {}

  void reap(int status) {
    reaped = true;
    exit_description = describe_exit(status);
    remove_socket_directory(socket_directory);
    exit_seen.notify();
  }

  void on_stdout_line(std::string_view line) {
    if (!handshake_seen.happened()) {
      handshake = std::string(line);
      handshake_seen.notify();
      return;
    }
    spdlog::info("plugin {}: {}", name, printable(line));
  }

  void on_stderr_line(std::string_view line) {
    auto shown = printable(line);
    spdlog::info("plugin {} (stderr): {}", name, shown);
    stderr_tail.push_back(std::move(shown));
    if (stderr_tail.size() > kStderrTailLines) stderr_tail.pop_front();
  }
};

namespace {

// Reads `descriptor` until its end, passing each line (without "\n" or "\r\n") to `on_line`.
template <typename OnLine>
asio::awaitable<void> read_lines(std::shared_ptr<PluginProcess::State> state,
                                 asio::posix::stream_descriptor& descriptor, OnLine on_line) {
  std::string pending;
  std::array<char, 4096> chunk;
  while (true) {
    auto [error, read] =
        co_await descriptor.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (error) break;
    pending.append(chunk.data(), read);
    std::size_t start = 0;
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n', start)) {
      auto line = std::string_view(pending).substr(start, end - start);
      if (line.ends_with('\r')) line.remove_suffix(1);
      on_line(*state, line);
      start = end + 1;
    }
    pending.erase(0, start);
    while (pending.size() >= kMaxLogLine) {
      on_line(*state, std::string_view(pending).substr(0, kMaxLogLine));
      pending.erase(0, kMaxLogLine);
    }
  }
  if (!pending.empty()) on_line(*state, pending);
}

asio::awaitable<void> watch_exit(std::shared_ptr<PluginProcess::State> state) {
  auto [error] = co_await state->exit_watch.async_wait(asio::posix::descriptor_base::wait_read,
                                                       asio::as_tuple(asio::use_awaitable));
  if (error || state->reaped) co_return;
  int status = 0;
  if (waitpid(state->pid, &status, 0) == state->pid) state->reap(status);
}

}  // namespace

PluginProcess::PluginProcess(asio::io_context& io, const std::string& path, std::string name) {
  auto socket_directory = make_socket_directory(path);
  Spawned spawned;
  try {
    spawned = spawn(path, socket_directory);
  } catch (...) {
    remove_socket_directory(socket_directory);
    throw;
  }
  state_ = std::make_shared<State>(io, std::move(name), spawned, std::move(socket_directory));
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, spawned.pid, 0));
  if (pidfd < 0) {
    const int error = errno;
    kill(spawned.pid, SIGKILL);
    waitpid(spawned.pid, nullptr, 0);
    remove_socket_directory(state_->socket_directory);
    throw std::runtime_error("cannot watch plugin " + path + ": pidfd_open: " + std::strerror(error));
  }
  state_->exit_watch.assign(pidfd);
  // The end of stdout ends the wait for a handshake too.
  asio::co_spawn(
      io, read_lines(state_, state_->out, [](State& s, std::string_view line) { s.on_stdout_line(line); }),
      [state = state_](std::exception_ptr) { state->handshake_seen.notify(); });
  asio::co_spawn(
      io, read_lines(state_, state_->err, [](State& s, std::string_view line) { s.on_stderr_line(line); }),
      [state = state_](std::exception_ptr) { state->stderr_closed.notify(); });
  asio::co_spawn(io, watch_exit(state_), asio::detached);
}

PluginProcess::~PluginProcess() {
  if (!state_->reaped) {
    kill(state_->pid, SIGKILL);
    int status = 0;
    if (waitpid(state_->pid, &status, 0) == state_->pid) state_->reap(status);
  }
  boost::system::error_code ignored;
  state_->out.close(ignored);
  state_->err.close(ignored);
  state_->exit_watch.close(ignored);
}

asio::awaitable<std::optional<std::string>> PluginProcess::handshake_line(
    std::chrono::steady_clock::time_point deadline) {
  const auto state = state_;
  co_await state->handshake_seen.wait(deadline);
  co_return state->handshake;
}

asio::awaitable<std::optional<std::string>> PluginProcess::exited(
    std::chrono::steady_clock::time_point deadline) {
  const auto state = state_;
  const bool exited = co_await state->exit_seen.wait(deadline);
  if (!exited) co_return std::nullopt;
  co_return state->exit_description;
}

asio::awaitable<void> PluginProcess::stop(std::chrono::steady_clock::time_point deadline) {
  const auto state = state_;
  if (state->reaped) co_return;
  kill(state->pid, SIGTERM);
  const bool exited = co_await state->exit_seen.wait(deadline);
  if (exited) co_return;
  spdlog::warn("plugin {} did not exit after SIGTERM: killing it", state->name);
  kill(state->pid, SIGKILL);
  co_await state->exit_seen.wait(std::chrono::steady_clock::time_point::max());
}

asio::awaitable<std::string> PluginProcess::last_stderr(std::chrono::steady_clock::time_point deadline) {
  const auto state = state_;
  co_await state->stderr_closed.wait(deadline);
  co_return last_stderr();
}

std::string PluginProcess::last_stderr() const {
  std::string joined;
  for (const auto& line : state_->stderr_tail) {
    if (!joined.empty()) joined += " / ";
    joined += line;
  }
  return joined;
}

pid_t PluginProcess::pid() const { return state_->pid; }

}  // namespace eg::plugin
