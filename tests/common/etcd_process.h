#pragma once
// One etcd member for tests, on free loopback ports with a data directory of its own, so a test can
// stop it and start it again (keeping the data, as a restart of the server would) without touching
// any other test's etcd. The binary comes from EG_ETCD_BINARY, else /usr/bin/etcd (Debian's
// etcd-server); etcdctl from EG_ETCDCTL_BINARY, else /usr/bin/etcdctl.
//
//   testsupport::EtcdProcess etcd(probe);   // started; probe(endpoint) says when it serves
//   etcd.stop(); ...; etcd.start();
//
// It can also lose its history the ways operators lose one: data wiped, or restored from an older
// backup (etcdctl snapshot save / restore), which makes the store's revision go back.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "temporary_directory.h"

namespace testsupport {

// The binaries EtcdProcess runs.
std::string etcd_binary();
std::string etcdctl_binary();
// Why tests that start etcd cannot run on this machine (no etcd binary), or nothing when they can.
std::optional<std::string> why_no_etcd();
// A loopback port nobody listens on (for a moment).
int free_port();
// Starts a program (the first argument: a path, or a name looked up in PATH) with its stdout and
// stderr appended to `log`, and returns its process id; throws std::system_error when it cannot.
pid_t spawn(std::vector<std::string> arguments, const std::filesystem::path& log);
// Runs a program to completion with its output appended to `log`; true when it exits with 0.
bool run_program(std::vector<std::string> arguments, const std::filesystem::path& log);

class EtcdProcess {
 public:
  // Whether etcd at `endpoint` ("127.0.0.1:<port>") serves clients yet.
  using ServingProbe = std::function<bool(const std::string& endpoint)>;

  // Starts etcd, adding `extra_arguments` to its command line; with `tls`, clients connect with
  // https (the TLS flags themselves go in `extra_arguments`). Throws when etcd does not serve
  // within 15 s.
  explicit EtcdProcess(ServingProbe serving, std::vector<std::string> extra_arguments = {}, bool tls = false);
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  std::filesystem::path log() const { return directory_.path() / "etcd.log"; }

  void start();
  // SIGTERM, and SIGKILL after 10 s.
  void stop();
  // Runs etcdctl against this member: its output when it succeeds, nothing otherwise.
  std::optional<std::string> etcdctl(std::vector<std::string> arguments);

  // While running: a backup of the member's data (etcdctl snapshot save) in the test's directory.
  // Throws when etcdctl fails.
  std::filesystem::path save_backup(const std::string& name);
  // While stopped: the member's data becomes `backup` (etcdctl snapshot restore), so that start()
  // serves the backup's keys at the backup's revision. The cluster id stays the same unless
  // `cluster_token` is given (etcd derives it from the members and the token): another cluster.
  // Throws when etcdctl fails.
  void restore_backup(const std::filesystem::path& backup, const std::string& cluster_token = "");
  // While stopped: deletes the member's data; start() begins a new history at revision 1.
  void wipe_data();

 private:
  std::filesystem::path data_directory() const { return directory_.path() / "data"; }
  std::string peer_url() const { return "http://127.0.0.1:" + std::to_string(peer_port_); }

  ServingProbe serving_;
  std::vector<std::string> extra_arguments_;
  bool tls_;
  int client_port_;
  int peer_port_;
  TemporaryDirectory directory_{"eg-etcd-test-"};
  pid_t pid_ = 0;
};

}  // namespace testsupport
