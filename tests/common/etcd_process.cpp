#include "etcd_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace testsupport {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = 15s;  // a loaded machine, sanitizer builds
constexpr auto kStopTimeout = 10s;

std::string binary(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

std::string etcd_binary() { return binary("EG_ETCD_BINARY", "/usr/bin/etcd"); }
std::string etcdctl_binary() { return binary("EG_ETCDCTL_BINARY", "/usr/bin/etcdctl"); }

std::optional<std::string> why_no_etcd() {
  if (access(etcd_binary().c_str(), X_OK) == 0) return std::nullopt;
  return "no etcd binary at " + etcd_binary() + " (apt-get install etcd-server, or set EG_ETCD_BINARY)";
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::system_error(errno, std::generic_category(), "free_port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

pid_t spawn(std::vector<std::string> arguments, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawnp " + arguments[0]);
  return pid;
}

bool run_program(std::vector<std::string> arguments, const std::filesystem::path& log) {
  const pid_t pid = spawn(std::move(arguments), log);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

EtcdProcess::EtcdProcess(ServingProbe serving, std::vector<std::string> extra_arguments, bool tls)
    : serving_(std::move(serving)),
      extra_arguments_(std::move(extra_arguments)),
      tls_(tls),
      client_port_(free_port()),
      peer_port_(free_port()) {
  start();
}

EtcdProcess::~EtcdProcess() {
  stop();
}

void EtcdProcess::start() {
  const auto client_url = (tls_ ? "https://" : "http://") + endpoint();
  std::vector<std::string> arguments{etcd_binary(),
                                     "--name=test",
                                     "--data-dir=" + data_directory().string(),
                                     "--listen-client-urls=" + client_url,
                                     "--advertise-client-urls=" + client_url,
                                     "--listen-peer-urls=" + peer_url(),
                                     "--initial-advertise-peer-urls=" + peer_url(),
                                     "--initial-cluster=test=" + peer_url()};
  arguments.insert(arguments.end(), extra_arguments_.begin(), extra_arguments_.end());
  pid_ = spawn(std::move(arguments), log());
  const auto deadline = Clock::now() + kStartTimeout;
  while (!serving_(endpoint())) {
    if (Clock::now() > deadline) {
      stop();
      throw std::runtime_error("etcd did not start; see " + log().string());
    }
    std::this_thread::sleep_for(50ms);
  }
}

void EtcdProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = Clock::now() + kStopTimeout;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  pid_ = 0;
}

std::optional<std::string> EtcdProcess::etcdctl(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {etcdctl_binary(), "--endpoints=" + endpoint()});
  const auto output = directory_.path() / "etcdctl.out";
  std::filesystem::remove(output);
  if (!run_program(std::move(arguments), output)) return std::nullopt;
  std::ifstream file(output);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

std::filesystem::path EtcdProcess::save_backup(const std::string& name) {
  const auto backup = directory_.path() / name;
  if (!etcdctl({"snapshot", "save", backup.string()})) {
    throw std::runtime_error("etcdctl snapshot save failed; see " +
                             (directory_.path() / "etcdctl.out").string());
  }
  return backup;
}

void EtcdProcess::restore_backup(const std::filesystem::path& backup, const std::string& cluster_token) {
  wipe_data();  // etcdctl refuses to restore into an existing data directory
  std::vector<std::string> arguments{etcdctl_binary(),
                                     "snapshot",
                                     "restore",
                                     backup.string(),
                                     "--name=test",
                                     "--data-dir=" + data_directory().string(),
                                     "--initial-advertise-peer-urls=" + peer_url(),
                                     "--initial-cluster=test=" + peer_url()};
  if (!cluster_token.empty()) arguments.push_back("--initial-cluster-token=" + cluster_token);
  const auto output = directory_.path() / "restore.out";
  if (!run_program(std::move(arguments), output)) {
    throw std::runtime_error("etcdctl snapshot restore failed; see " + output.string());
  }
}

void EtcdProcess::wipe_data() { std::filesystem::remove_all(data_directory()); }

}  // namespace testsupport
