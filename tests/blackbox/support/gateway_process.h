// Black-box test harness: runs the real event-gateway binary as a child process.
//
//   blackbox::GatewayProcess gw;            // picks free ports, makes a temp data dir
//   ASSERT_TRUE(gw.start());                // spawns `-dev -embed-data-dir ... -config-port ... -events-port
//   ...` auto r = blackbox::request("GET", gw.config_url() + "/v1/status"); ASSERT_TRUE(gw.stop()); //
//   SIGTERM, waits (SIGKILL after 10 s = failure) EXPECT_EQ(gw.exit_code(), 0);
//
// The process's stdout+stderr go to a log file in the temp dir; when a test fails, the part of the log
// written during that test is printed (handy in CI). No process outlives its GatewayProcess.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#ifndef EG_BINARY_PATH
#error "EG_BINARY_PATH must be defined (path of the event-gateway binary under test)"
#endif

namespace blackbox {

// Path of the binary under test (EG_BINARY_PATH, overridable with the environment variable EG_BINARY).
std::string binary_path();

// A free TCP port (bind port 0 on all interfaces, read it, close). `pick_free_ports(n)` returns n distinct
// ones.
int pick_free_port();
std::vector<int> pick_free_ports(std::size_t n);

// A unique temporary directory, removed recursively in the destructor unless keep() was called (or the
// environment variable EG_BLACKBOX_KEEP is set).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "eg-blackbox-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void keep(bool keep = true) { keep_ = keep; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// Result of running the binary to completion (flag tests).
struct RunResult {
  int exit_code = -1;      // exit status; 128+signal if killed by a signal; -1 if it timed out
  bool timed_out = false;  // still running after the timeout (it was SIGKILLed)
  std::string out;         // stdout
  std::string err;         // stderr
  std::string output() const { return out + err; }
};

// Runs `binary args...` (stdin = /dev/null), waits up to `timeout`, captures stdout and stderr separately.
// `environment`: "NAME=value" entries added to (or replacing) the test's own environment.
RunResult run_binary(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10),
                     const std::vector<std::string>& environment = {});

// While it lives, binary_path() (what GatewayProcess and run_binary run) is a copy of the binary alone
// in a directory of its own, without the modules the build puts beside it (the etcd and plugin
// clients, loaded from the binary's directory). One at a time.
class BinaryWithoutModules {
 public:
  BinaryWithoutModules();
  ~BinaryWithoutModules();
  BinaryWithoutModules(const BinaryWithoutModules&) = delete;
  BinaryWithoutModules& operator=(const BinaryWithoutModules&) = delete;

 private:
  TempDir dir_{"eg-blackbox-alone-"};
  std::optional<std::string> previous_;
};

struct GatewayOptions {
  // Appended after the standard arguments.
  std::vector<std::string> extra_args;
  // The dev-mode flag; "" to omit it (e.g. for clustered runs that pass their own -db-hosts). Without
  // it, `-spool-dir <data_dir()>/spool` is passed too, unless extra_args holds a -spool-dir.
  std::string dev_flag = "-dev";
  // Pass `-embed-data-dir <data_dir()>`.
  bool pass_data_dir = true;
  // Keep the temp dir (data + log) after destruction.
  bool keep_data_dir = false;
  // "NAME=value" entries added to the test's own environment.
  std::vector<std::string> environment;
  // How long start() waits for `GET /v1/status` to answer 200.
  std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
  // How long stop() waits after SIGTERM before it SIGKILLs (and reports a failure).
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
  // The Configuration API serves TLS (its -config-tls-* flags are in extra_args) with a certificate
  // that this CA file (PEM) signs: config_url() is https, and start() checks readiness over it.
  std::string config_tls_ca;
  // The Events API serves TLS (its -events-tls-* flags are in extra_args): events_url() is https.
  bool events_tls = false;
};

class GatewayProcess {
 public:
  explicit GatewayProcess(GatewayOptions options = {});
  ~GatewayProcess();  // kills the process if still running; prints the log if the current test failed
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  // Spawns the binary and waits until GET /v1/status answers 200 (polling every 10 ms).
  // Fails (with the log in the message) if the process exits early or is not ready in time.
  // If the ports were taken in the meantime ("address in use"), retries on fresh ports (first start only).
  ::testing::AssertionResult start();
  // SIGTERM and wait; SIGKILL after stop_timeout, reported as a failure. Success if not running.
  ::testing::AssertionResult stop();
  // stop() then start() on the same ports and data dir.
  ::testing::AssertionResult restart();
  // SIGKILL and reap, no questions asked.
  void kill_now();

  bool running();                  // reaps the child if it has exited
  std::optional<int> exit_code();  // nullopt while running / before start; 128+signal if signaled
  pid_t pid() const { return pid_; }

  int config_port() const { return config_port_; }
  int events_port() const { return events_port_; }
  std::string config_url() const;  // http://127.0.0.1:<config port> (https with config_tls_ca)
  std::string events_url() const;  // http://127.0.0.1:<events port> (https with events_tls)

  const std::filesystem::path& temp_dir() const { return temp_.path(); }
  std::filesystem::path data_dir() const { return temp_.path() / "data"; }
  std::filesystem::path log_path() const { return temp_.path() / "gateway.log"; }
  std::string log() const;  // the whole log so far (all runs)
  std::string log_since(std::uintmax_t offset) const;
  std::uintmax_t log_size() const;
  void keep_data_dir(bool keep = true) { temp_.keep(keep); }

  // The full argument vector used to start (without argv[0]).
  std::vector<std::string> arguments() const;
  std::vector<std::string> environment() const;

  // Internal: log offset at the start of the current test (used to print only that test's part).
  std::uintmax_t test_log_mark = 0;

 private:
  ::testing::AssertionResult spawn_and_wait();
  void reap(int status);

  GatewayOptions options_;
  TempDir temp_;
  int config_port_ = 0;
  int events_port_ = 0;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  bool started_once_ = false;
};

}  // namespace blackbox
