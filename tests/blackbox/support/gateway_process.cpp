#include "support/gateway_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.h"

extern char** environ;

namespace blackbox {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- Last-resort cleanup: if the test binary dies from a signal, kill the children first. ----------------
constexpr std::size_t kMaxChildren = 256;
std::array<std::atomic<pid_t>, kMaxChildren> g_child_pids{};

void remember_child(pid_t pid) {
  for (auto& slot : g_child_pids) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}

void forget_child(pid_t pid) {
  for (auto& slot : g_child_pids) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

extern "C" void kill_children_and_reraise(int sig) {
  for (auto& slot : g_child_pids) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_crash_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGHUP}) {
      struct sigaction sa {};
      sa.sa_handler = kill_children_and_reraise;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESETHAND;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

// ---- Live gateways, so that a failing test can print their logs. -----------------------------------------
std::mutex g_live_mutex;
std::set<GatewayProcess*> g_live;

constexpr std::uintmax_t kMaxLogPrint = 64 * 1024;

void print_log(const GatewayProcess& gw, std::uintmax_t from, const char* why) {
  std::string text = gw.log_since(from);
  std::string prefix;
  if (text.size() > kMaxLogPrint) {
    prefix = "...(" + std::to_string(text.size() - kMaxLogPrint) + " bytes cut)...\n";
    text = text.substr(text.size() - kMaxLogPrint);
  }
  std::fflush(stdout);
  std::printf(
      "----- event-gateway log (%s; config port %d, events port %d, %s) -----\n%s%s%s"
      "----- end of event-gateway log -----\n",
      why, gw.config_port(), gw.events_port(), gw.log_path().c_str(), prefix.c_str(), text.c_str(),
      (!text.empty() && text.back() != '\n') ? "\n" : "");
  std::fflush(stdout);
}

class LogOnFailure : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override {
    std::lock_guard lock(g_live_mutex);
    for (auto* gw : g_live) gw->test_log_mark = gw->log_size();
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    std::lock_guard lock(g_live_mutex);
    for (auto* gw : g_live) print_log(*gw, gw->test_log_mark, "written during the failed test");
  }
};

struct ListenerInstaller {
  ListenerInstaller() { ::testing::UnitTest::GetInstance()->listeners().Append(new LogOnFailure); }
} g_listener_installer;

std::string read_file(const fs::path& p, std::uintmax_t from = 0) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(from));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string join_args(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " " + a;
  return s;
}

struct SpawnResult {
  pid_t pid = -1;
  std::string error;
};

// posix_spawn `binary args...` with stdin=/dev/null, stdout -> out_path, stderr -> err_path (same file if
// equal).
SpawnResult spawn(const std::vector<std::string>& args, const fs::path& out_path, const fs::path& err_path,
                  const std::vector<std::string>& extra_environment = {}) {
  install_crash_handlers();
  std::string binary = binary_path();
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment_storage(extra_environment);
  // A gateway under test never asks the cloud's metadata service for credentials (a CI runner on EC2
  // would answer with its own), unless the test says otherwise.
  if (std::none_of(environment_storage.begin(), environment_storage.end(),
                   [](const std::string& extra) { return extra.starts_with("AWS_EC2_METADATA_DISABLED="); }))
    environment_storage.emplace_back("AWS_EC2_METADATA_DISABLED=true");
  std::vector<char*> envp;
  // An extra variable replaces the inherited one of its name (getenv() would find the first).
  const auto overridden = [&](std::string_view variable) {
    const auto name = variable.substr(0, variable.find('=') + 1);
    return std::any_of(environment_storage.begin(), environment_storage.end(),
                       [&](const std::string& extra) { return extra.starts_with(name); });
  };
  for (char** variable = environ; *variable != nullptr; ++variable) {
    if (!overridden(*variable)) envp.push_back(*variable);
  }
  for (auto& variable : environment_storage) envp.push_back(variable.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  if (err_path == out_path)
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  else
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  // Own process group: a Ctrl-C on the test run reaches us, and we clean up the child ourselves.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  SpawnResult result;
  int rc = posix_spawn(&result.pid, binary.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.pid = -1;
    result.error = "posix_spawn(" + binary + "): " + std::strerror(rc);
    return result;
  }
  remember_child(result.pid);
  return result;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for pid up to `timeout`; returns the raw wait status, or nullopt on timeout.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;  // not our child any more; treat as exited
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

std::string binary_path() {
  if (const char* env = std::getenv("EG_BINARY"); env != nullptr && *env != '\0') return env;
  return EG_BINARY_PATH;
}

BinaryWithoutModules::BinaryWithoutModules() {
  const auto copy = dir_.path() / "event-gateway";
  fs::copy_file(binary_path(), copy);
  if (const char* previous = std::getenv("EG_BINARY")) previous_ = previous;
  ::setenv("EG_BINARY", copy.c_str(), 1);  // what binary_path() runs
}

BinaryWithoutModules::~BinaryWithoutModules() {
  if (previous_) {
    ::setenv("EG_BINARY", previous_->c_str(), 1);
  } else {
    ::unsetenv("EG_BINARY");
  }
}

std::vector<int> pick_free_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (std::size_t i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      break;
    }
    fds.push_back(fd);  // keep open until all are picked, so they are distinct
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (ports.size() != n) throw std::runtime_error("could not pick free ports");
  return ports;
}

int pick_free_port() { return pick_free_ports(1).front(); }

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp(" + tmpl + "): " + std::strerror(errno));
  path_ = tmpl;
  if (std::getenv("EG_BLACKBOX_KEEP") != nullptr) keep_ = true;
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RunResult run_binary(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                     const std::vector<std::string>& environment) {
  TempDir dir("eg-blackbox-run-");
  RunResult result;
  auto out = dir.path() / "stdout";
  auto err = dir.path() / "stderr";
  SpawnResult sp = spawn(args, out, err, environment);
  if (sp.pid < 0) {
    result.err = sp.error;
    return result;
  }
  auto status = wait_for(sp.pid, timeout);
  if (!status) {
    result.timed_out = true;
    ::kill(sp.pid, SIGKILL);
    int st = 0;
    ::waitpid(sp.pid, &st, 0);
    result.exit_code = -1;
  } else {
    result.exit_code = decode_status(*status);
  }
  forget_child(sp.pid);
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

GatewayProcess::GatewayProcess(GatewayOptions options) : options_(std::move(options)), temp_("eg-blackbox-") {
  if (options_.keep_data_dir) temp_.keep();
  fs::create_directories(data_dir());
  fs::permissions(data_dir(), fs::perms::owner_all);  // as a user keeps it: it holds secrets
  auto ports = pick_free_ports(2);
  config_port_ = ports[0];
  events_port_ = ports[1];
  std::lock_guard lock(g_live_mutex);
  g_live.insert(this);
}

GatewayProcess::~GatewayProcess() {
  {
    std::lock_guard lock(g_live_mutex);
    g_live.erase(this);
  }
  kill_now();
  if (::testing::Test::HasFailure() && started_once_)
    print_log(*this, test_log_mark, "the current test failed");
}

std::vector<std::string> GatewayProcess::arguments() const {
  std::vector<std::string> args;
  if (!options_.dev_flag.empty()) args.push_back(options_.dev_flag);
  if (options_.pass_data_dir) {
    args.push_back("-embed-data-dir");
    args.push_back(data_dir().string());
  }
  args.push_back("-config-port");
  args.push_back(std::to_string(config_port_));
  args.push_back("-events-port");
  args.push_back(std::to_string(events_port_));
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  // Outside dev mode the spool defaults to ./event-gateway-spool, which instances started from one
  // directory would share (and the second refuse): each gets its own, as in production.
  const bool spool_given = std::find(args.begin(), args.end(), "-spool-dir") != args.end();
  if (options_.dev_flag.empty() && !spool_given) {
    args.push_back("-spool-dir");
    args.push_back((data_dir() / "spool").string());
  }
  return args;
}

// Outside dev mode the gateway loads the etcd module, a shared library of gRPC threads, and
// LeakSanitizer's exit check sometimes crashes scanning their thread-local storage ("Tracer caught
// signal 11 ... LeakSanitizer has encountered a fatal error", exit 134: a sanitizer bug,
// google/sanitizers#1322), which failed a cluster test now and then. Such a gateway runs without the
// leak check; the etcd store's code is still checked for leaks by the unit tests, which link it
// directly rather than loading it. Every other sanitizer check stays on.
std::vector<std::string> GatewayProcess::environment() const {
  auto environment = options_.environment;
  if (options_.dev_flag.empty()) {
    const char* inherited = std::getenv("ASAN_OPTIONS");
    environment.push_back(std::string("ASAN_OPTIONS=") + (inherited != nullptr ? inherited : "") +
                          (inherited != nullptr && *inherited != '\0' ? ":" : "") + "detect_leaks=0");
  }
  return environment;
}

std::string GatewayProcess::config_url() const {
  return (options_.config_tls_ca.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") +
         std::to_string(config_port_);
}
std::string GatewayProcess::events_url() const {
  return (options_.events_tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(events_port_);
}

std::string GatewayProcess::log() const { return read_file(log_path()); }
std::string GatewayProcess::log_since(std::uintmax_t offset) const { return read_file(log_path(), offset); }
std::uintmax_t GatewayProcess::log_size() const {
  std::error_code ec;
  auto size = fs::file_size(log_path(), ec);
  return ec ? 0 : size;
}

void GatewayProcess::reap(int status) {
  exit_code_ = decode_status(status);
  forget_child(pid_);
  pid_ = -1;
}

bool GatewayProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return true;
}

std::optional<int> GatewayProcess::exit_code() {
  if (running()) return std::nullopt;
  return exit_code_;
}

::testing::AssertionResult GatewayProcess::spawn_and_wait() {
  if (running()) return ::testing::AssertionFailure() << "gateway already running (pid " << pid_ << ")";
  auto log_start = log_size();
  auto args = arguments();
  SpawnResult sp = spawn(args, log_path(), log_path(), environment());
  if (sp.pid < 0) return ::testing::AssertionFailure() << sp.error;
  pid_ = sp.pid;
  exit_code_.reset();
  started_once_ = true;

  RequestOptions quick;
  quick.timeout = 1s;
  quick.ca_file = options_.config_tls_ca;
  auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  std::string last;
  for (;;) {
    if (!running()) {
      return ::testing::AssertionFailure()
             << "event-gateway exited with code " << exit_code_.value_or(-1) << " before it was ready\n"
             << "command:"
             << " " << binary_path() << join_args(args) << "\nlog:\n"
             << log_since(log_start);
    }
    auto r = request("GET", config_url() + "/v1/status", {}, {}, quick);
    // The answer counts only once this gateway's log says it is ready on this port: another test's
    // gateway may hold the port (both picked it), and answer while this one fails to listen and exits.
    const auto ready_line = "event gateway ready: Configuration API on port " + std::to_string(config_port_);
    if (r.status == 200 && log_since(log_start).find(ready_line) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    last = r.describe();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(10ms);
  }
  std::string log_text = log_since(log_start);
  kill_now();
  return ::testing::AssertionFailure() << "GET /v1/status did not answer 200 within "
                                       << options_.ready_timeout.count() << " ms (last: " << last << ")\n"
                                       << "command: " << binary_path() << join_args(args) << "\nlog:\n"
                                       << log_text;
}

::testing::AssertionResult GatewayProcess::start() {
  bool first = !started_once_;
  auto result = spawn_and_wait();
  // Another process may have grabbed a port between picking and binding: retry on fresh ports.
  for (int attempt = 0; first && !result && attempt < 3; ++attempt) {
    std::string text = result.message();
    if (text.find("in use") == std::string::npos && text.find("EADDRINUSE") == std::string::npos) break;
    auto ports = pick_free_ports(2);
    config_port_ = ports[0];
    events_port_ = ports[1];
    result = spawn_and_wait();
  }
  return result;
}

::testing::AssertionResult GatewayProcess::stop() {
  if (!running()) return ::testing::AssertionSuccess();
  ::kill(pid_, SIGTERM);
  auto status = wait_for(pid_, options_.stop_timeout);
  if (status) {
    reap(*status);
    return ::testing::AssertionSuccess();
  }
  kill_now();
  return ::testing::AssertionFailure() << "event-gateway did not exit within "
                                       << options_.stop_timeout.count() << " ms of SIGTERM; it was SIGKILLed";
}

::testing::AssertionResult GatewayProcess::restart() {
  if (auto r = stop(); !r) return r;
  return spawn_and_wait();
}

void GatewayProcess::kill_now() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reap(status);
}

}  // namespace blackbox
