// Black-box tests of the installed gateway: the tree `cmake --install` makes (the binary finds its
// modules in lib/event-gateway/) and the notifications of a systemd unit of Type=notify
// (docs/install.md).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "common/etcd_process.h"
#include "common/scoped_env.h"
#include "common/temporary_directory.h"
#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"

#ifndef EG_BUILD_DIR
#error "EG_BUILD_DIR must be defined (the build directory that cmake --install installs from)"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using blackbox::ConfigClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::IsJson;

std::string text_of(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string mapped_files(pid_t pid) { return text_of("/proc/" + std::to_string(pid) + "/maps"); }

// `cmake --install` into a prefix of the test's own, and the installed binary run from there.
class InstalledTree : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        testsupport::run_program({EG_CMAKE_COMMAND, "--install", EG_BUILD_DIR, "--prefix", prefix().string()},
                                 directory_.path() / "install.log"))
        << text_of(directory_.path() / "install.log");
  }
  fs::path prefix() const { return directory_.path() / "prefix"; }

  testsupport::TemporaryDirectory directory_{"eg-installed-"};
};

TEST_F(InstalledTree, HasTheBinaryItsModulesTheUnitAndTheDocsInTheirPlaces) {
  for (const auto* file :
       {"bin/event-gateway", "lib/event-gateway/" EG_ETCD_MODULE_FILE,
        "lib/event-gateway/" EG_PLUGIN_MODULE_FILE, "lib/systemd/system/event-gateway.service",
        "share/doc/event-gateway/README.md", "share/doc/event-gateway/docs/install.md",
        "share/event-gateway/proto/plugin/v1/reacter.proto"}) {
    EXPECT_TRUE(fs::exists(prefix() / file)) << file;
  }
  const auto unit = text_of(prefix() / "lib/systemd/system/event-gateway.service");
  EXPECT_NE(unit.find("\nExecStart=" + (prefix() / "bin/event-gateway").string() + "\n"), std::string::npos)
      << unit;
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos) << unit;
}

TEST_F(InstalledTree, TheBinaryLoadsTheEtcdModuleFromLibEventGateway) {
  if (auto reason = testsupport::why_no_etcd()) GTEST_SKIP() << *reason;
  testsupport::EtcdProcess etcd([](const std::string& endpoint) {
    return blackbox::request("GET", "http://" + endpoint + "/health", {}, {}, {.timeout = 1s}).status == 200;
  });
  testsupport::ScopedEnv installed("EG_BINARY", (prefix() / "bin/event-gateway").string());
  GatewayProcess gateway(
      GatewayOptions{.extra_args = {"-db-hosts", etcd.endpoint()}, .dev_flag = "", .pass_data_dir = false});
  ASSERT_TRUE(gateway.start());
  EXPECT_NE(mapped_files(gateway.pid()).find((prefix() / "lib/event-gateway/" EG_ETCD_MODULE_FILE).string()),
            std::string::npos)
      << mapped_files(gateway.pid());
  ConfigClient api(gateway.config_url());
  EXPECT_TRUE(IsJson(api.create_function("installed", blackbox::http_function("f")), 201));
  const auto stored =
      etcd.etcdctl({"get", "--print-value-only", "/serverless-event-gateway/spaces/installed/functions/f"});
  ASSERT_TRUE(stored);
  EXPECT_NE(stored->find(R"("functionId":"f")"), std::string::npos) << *stored;
  EXPECT_TRUE(gateway.stop());
}

// A Unix datagram socket in the role of systemd's notification socket (NOTIFY_SOCKET).
class NotifySocket {
 public:
  explicit NotifySocket(fs::path path)
      : path_(std::move(path)), fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
    const timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  // The next datagram, or nothing after 10 s.
  std::optional<std::string> receive() const {
    std::array<char, 4096> buffer{};
    const auto received = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (received < 0) return std::nullopt;
    return std::string(buffer.data(), static_cast<std::size_t>(received));
  }

 private:
  fs::path path_;
  int fd_;
  bool bound_ = false;
};

TEST(ServiceNotify, ReadyOnceBothApisListenAndStoppingAtSigterm) {
  testsupport::TemporaryDirectory directory{"eg-notify-"};
  NotifySocket systemd(directory.path() / "notify");
  ASSERT_TRUE(systemd.bound()) << std::strerror(errno);
  GatewayProcess gateway(
      GatewayOptions{.environment = {"NOTIFY_SOCKET=" + (directory.path() / "notify").string()}});
  ASSERT_TRUE(gateway.start());
  const auto ready = systemd.receive();
  ASSERT_TRUE(ready) << gateway.log();
  EXPECT_TRUE(ready->starts_with("READY=1\nSTATUS=Configuration API on port " +
                                 std::to_string(gateway.config_port())))
      << *ready;
  EXPECT_NE(ready->find("Events API on port " + std::to_string(gateway.events_port())), std::string::npos)
      << *ready;
  EXPECT_NE(mapped_files(gateway.pid()).find("libsystemd.so.0"), std::string::npos);
  EXPECT_TRUE(gateway.stop());
  const auto stopping = systemd.receive();
  ASSERT_TRUE(stopping) << gateway.log();
  EXPECT_TRUE(stopping->starts_with("STOPPING=1\n")) << *stopping;
  EXPECT_EQ(gateway.exit_code(), 0);
}

TEST(ServiceNotify, WithoutNotifySocketLibsystemdIsNotEvenMapped) {
  GatewayProcess gateway(GatewayOptions{.environment = {"NOTIFY_SOCKET="}});  // empty: as if unset
  ASSERT_TRUE(gateway.start());
  const auto mapped = mapped_files(gateway.pid());
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped.find("libsystemd"), std::string::npos) << mapped;
  EXPECT_TRUE(gateway.stop());
}

}  // namespace
