// Black-box tests of cluster mode: two event-gateway binaries without -dev share one real etcd
// (Debian's etcd-server, started by each test on free loopback ports so it can stop and restart
// it). Instances never talk to each other: what one is told through its Configuration API reaches
// the other only through etcd's watch.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/certificates.h"
#include "common/etcd_process.h"
#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::ConfigClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::HttpResponse;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::UpstreamServer;
using Clock = std::chrono::steady_clock;

constexpr auto kConvergeTimeout = 10s;  // generous: CI machines are shared, sanitizer builds are slow
constexpr const char* kSpace = "cluster";
constexpr const char* kDbTimeoutMs = "1000";

bool etcd_serves(const std::string& endpoint) {
  return blackbox::request("GET", "http://" + endpoint + "/health", {}, {}, {.timeout = 1s}).status == 200;
}

// etcd's own JSON gateway (served on the client port): the store's current revision.
std::int64_t etcd_revision(const testsupport::EtcdProcess& etcd) {
  const auto r = blackbox::request("POST", "http://" + etcd.endpoint() + "/v3/kv/range", R"({"key":"AA=="})");
  const auto body = r.json();
  return std::stoll(std::string(body.at("header").at("revision").as_string()));
}

// Waits until GET `path` on `gateway`'s Events API answers `status`; how long it took, or nothing.
std::optional<Clock::duration> wait_for_route(const GatewayProcess& gateway, const std::string& path, long status,
                                              std::chrono::milliseconds timeout = kConvergeTimeout) {
  const auto start = Clock::now();
  while (Clock::now() - start < timeout) {
    if (blackbox::request("GET", gateway.events_url() + path).status == status) return Clock::now() - start;
    std::this_thread::sleep_for(1ms);
  }
  return std::nullopt;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = testsupport::why_no_etcd()) GTEST_SKIP() << *reason;
    etcd_ = std::make_unique<testsupport::EtcdProcess>(etcd_serves);
    for (auto* gateway : {&a_, &b_}) {
      *gateway = std::make_unique<GatewayProcess>(cluster_options());
      ASSERT_TRUE((*gateway)->start());
    }
    function_.respond("/f", {.body = R"({"statusCode":200,"body":"routed"})"});
    ASSERT_TRUE(IsJson(a().create_function(kSpace, blackbox::http_function("f", function_.url("/f"))), 201));
  }

  void TearDown() override {
    for (auto* gateway : {&a_, &b_}) {
      if (*gateway == nullptr) continue;
      EXPECT_TRUE((*gateway)->running()) << "an instance died during the test";
      EXPECT_TRUE((*gateway)->stop());
      EXPECT_EQ((*gateway)->exit_code(), 0);
    }
  }

  GatewayOptions cluster_options() const {
    return GatewayOptions{.extra_args = {"-db-hosts", etcd_->endpoint(), "-db-timeout", kDbTimeoutMs},
                          .dev_flag = "",
                          .pass_data_dir = false};
  }

  ConfigClient a() const { return ConfigClient(a_->config_url()); }
  ConfigClient b() const { return ConfigClient(b_->config_url()); }

  HttpResponse subscribe_get(const ConfigClient& api, const std::string& path) const {
    return api.create_subscription(kSpace, blackbox::http_subscription("f", "GET", path));
  }

  // What a client does with a 503: tries again, here until the instances have reconnected to etcd.
  template <typename Call>
  static HttpResponse retry_while_unavailable(const Call& call) {
    HttpResponse response;
    for (const auto deadline = Clock::now() + kConvergeTimeout; Clock::now() < deadline;) {
      response = call();
      if (response.status != 503) break;
    }
    return response;
  }

  // An instance that says its store is available routes no revision the store has not reached.
  void expect_truthful_status(const GatewayProcess& gateway) const {
    const auto status = blackbox::request("GET", gateway.config_url() + "/v1/status");
    ASSERT_TRUE(IsJson(status, 200));
    const auto store = status.json().at("store");
    if (store.at("available") != true) return;
    EXPECT_LE(store.at("routingRevision").as_int64(), etcd_revision(*etcd_))
        << gateway.config_url()
        << " says it follows the store while it routes a revision the store does not have: " << store;
  }

  std::unique_ptr<testsupport::EtcdProcess> etcd_;
  std::unique_ptr<GatewayProcess> a_;
  std::unique_ptr<GatewayProcess> b_;
  UpstreamServer function_;
};

TEST_F(ClusterTest, ConfigurationWrittenThroughOneInstanceIsRoutedByTheOther) {
  EXPECT_EQ(b().get_function(kSpace, "f").json(), a().get_function(kSpace, "f").json());
  // Operators find the configuration under one documented prefix (docs/store.md).
  const auto keys = etcd_->etcdctl({"get", "--prefix", "/serverless-event-gateway/", "--keys-only"});
  ASSERT_TRUE(keys);
  EXPECT_NE(keys->find("/serverless-event-gateway/spaces/cluster/functions/f"), std::string::npos) << *keys;

  const auto created = subscribe_get(a(), "/hello");
  ASSERT_TRUE(IsJson(created, 201));
  ASSERT_TRUE(wait_for_route(*b_, "/hello", 200)) << "B never routed A's subscription";
  const auto answer = blackbox::request("GET", b_->events_url() + "/hello");
  EXPECT_EQ(answer.body, "routed");

  // A custom event subscribed through B, emitted through A. Instances apply changes in store order,
  // so once A routes a later http subscription it has the custom one too.
  ASSERT_TRUE(IsJson(b().create_subscription(kSpace, blackbox::custom_subscription("user.created", "f", "/app")),
                     201));
  ASSERT_TRUE(IsJson(subscribe_get(b(), "/later"), 201));
  ASSERT_TRUE(wait_for_route(*a_, "/later", 200));
  const auto accepted = blackbox::request("POST", a_->events_url() + "/app", R"({"n":1})",
                                          {{"Event", "user.created"}, {"Space", kSpace}});
  EXPECT_EQ(accepted.status, 202) << accepted.describe();
  ASSERT_TRUE(function_.wait_until(
      [](const auto& requests) {
        return std::any_of(requests.begin(), requests.end(),
                           [](const auto& r) { return r.body.find("user.created") != std::string::npos; });
      },
      "the custom event emitted through A, subscribed through B"));

  // A delete through B is gone from A too.
  const auto id = std::string(created.json().at("subscriptionId").as_string());
  ASSERT_EQ(b().del(ConfigClient::subscriptions(kSpace) + "/" + blackbox::encode_uri_component(id)).status, 204);
  EXPECT_TRUE(wait_for_route(*a_, "/hello", 404)) << "A still routes a subscription deleted through B";
}

// Anyone who reaches one instance's Configuration API changes routing for the whole cluster: an
// instance without keys says so at start and in its status, and one with keys does not.
TEST_F(ClusterTest, WithoutKeysEachInstanceWarnsThatAnyoneWhoReachesItCanChangeRouting) {
  const auto status = blackbox::request("GET", a_->config_url() + "/v1/status").json();
  ASSERT_TRUE(status.as_object().contains("warnings")) << status;
  const auto warning = std::string(status.at("warnings").as_array().at(0).as_string());
  EXPECT_NE(warning.find("the Configuration API needs no key: anyone who reaches port"), std::string::npos)
      << warning;
  EXPECT_NE(a_->log().find(warning), std::string::npos) << a_->log();

  blackbox::TempDir dir("eg-cluster-keys-");
  const auto keys = dir.path() / "keys";
  std::ofstream(keys) << std::string(64, 'a') << " *\n";
  auto options = cluster_options();
  options.extra_args.insert(options.extra_args.end(), {"-config-api-keys", keys.string()});
  GatewayProcess keyed(options);
  ASSERT_TRUE(keyed.start());
  const auto keyed_status = blackbox::request("GET", keyed.config_url() + "/v1/status").json();
  EXPECT_FALSE(keyed_status.as_object().contains("warnings")) << keyed_status;
  EXPECT_EQ(keyed.log().find("needs no key"), std::string::npos);
}

// Only this machine reaches an instance on localhost: the name is resolved, and each of its
// addresses is loopback.
TEST_F(ClusterTest, AnInstanceOnLocalhostWithoutKeysDoesNotWarn) {
  auto options = cluster_options();
  options.extra_args.insert(options.extra_args.end(), {"-listen-address", "localhost"});
  GatewayProcess local(options);
  ASSERT_TRUE(local.start());
  const auto status = blackbox::request("GET", local.config_url() + "/v1/status").json();
  EXPECT_FALSE(status.as_object().contains("warnings")) << status;
  EXPECT_EQ(local.log().find("needs no key"), std::string::npos) << local.log();
}

TEST_F(ClusterTest, ConcurrentConflictingWritesThroughTwoInstancesEndWithOneSuccess) {
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const auto id = "race-" + std::to_string(round);
    const auto path = "/race/" + std::to_string(round);
    HttpResponse through_a;
    HttpResponse through_b;
    auto race = [&](auto write_a, auto write_b) {
      std::latch go(2);
      std::thread other([&] {
        go.arrive_and_wait();
        through_b = write_b();
      });
      go.arrive_and_wait();
      through_a = write_a();
      other.join();
    };

    // The same function registered through both.
    race([&] { return a().create_function(kSpace, blackbox::http_function(id, function_.url("/a"))); },
         [&] { return b().create_function(kSpace, blackbox::http_function(id, function_.url("/b"))); });
    EXPECT_EQ(std::minmax({through_a.status, through_b.status}), std::make_pair(201L, 409L))
        << "round " << round << ": A " << through_a.describe() << ", B " << through_b.describe();

    // Two endpoints the README's rules say conflict: parameters named differently at one position.
    race([&] { return subscribe_get(a(), path + "/:id"); }, [&] { return subscribe_get(b(), path + "/:name"); });
    EXPECT_EQ(std::minmax({through_a.status, through_b.status}), std::make_pair(201L, 400L))
        << "round " << round << ": A " << through_a.describe() << ", B " << through_b.describe();
  }
  EXPECT_EQ(a().list_subscriptions(kSpace).size(), static_cast<std::size_t>(kRounds));
  EXPECT_EQ(b().list_functions(kSpace).size(), static_cast<std::size_t>(kRounds + 1));
}

TEST_F(ClusterTest, EtcdOutageKeepsRoutingFailsWritesCleanlyAndRecovers) {
  ASSERT_TRUE(IsJson(subscribe_get(a(), "/before"), 201));
  ASSERT_TRUE(wait_for_route(*b_, "/before", 200));

  etcd_->stop();
  // Routing continues from each instance's last snapshot.
  for (const auto* gateway : {a_.get(), b_.get()}) {
    const auto routed = blackbox::request("GET", gateway->events_url() + "/before");
    EXPECT_EQ(routed.status, 200) << routed.describe();
    EXPECT_EQ(routed.body, "routed");
  }
  // Writes and reads fail within the store timeout (1 s here), with a clear error; once an instance
  // knows etcd is down, at once, so a queue of calls does not wait one timeout each.
  const auto writes_start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    const auto write = subscribe_get(b(), "/during");
    EXPECT_TRUE(IsJsonError(write, 503));
    EXPECT_NE(write.body.find("configuration store unavailable"), std::string::npos) << write.describe();
  }
  EXPECT_LT(Clock::now() - writes_start, 3s);
  EXPECT_TRUE(IsJsonError(a().get_function(kSpace, "f"), 503));
  const auto status = blackbox::request("GET", a_->config_url() + "/v1/status");
  ASSERT_TRUE(IsJson(status, 200));
  EXPECT_EQ(status.json().at("store").at("available"), false) << status.describe();

  // etcd returns: no restart of the instances, they reconnect and follow new writes.
  etcd_->start();
  // A client retries a 503; the first tries may meet A's connection still backing off.
  const auto recovered = retry_while_unavailable([&] { return subscribe_get(a(), "/after"); });
  EXPECT_TRUE(IsJson(recovered, 201)) << recovered.describe();
  EXPECT_TRUE(wait_for_route(*b_, "/after", 200)) << "B did not catch up after etcd came back";
  EXPECT_EQ(blackbox::request("GET", b_->events_url() + "/during").status, 404);
  EXPECT_EQ(blackbox::request("GET", b_->config_url() + "/v1/status").json().at("store").at("available"), true);
}

// Polls GET `url` until its body holds `text` (at most kConvergeTimeout); the last body.
std::string poll_until_body_has(const std::string& url, const std::string& text) {
  std::string body;
  for (const auto deadline = Clock::now() + kConvergeTimeout; Clock::now() < deadline;) {
    body = blackbox::request("GET", url).body;
    if (body.find(text) != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  return body;
}

// Ready means "routes what it loaded": an etcd outage must not take every instance out of its load
// balancer. The metrics say the store is down.
TEST_F(ClusterTest, WithEtcdDownTheInstancesStayReadyRouteAndTheMetricsSayTheStoreIsDown) {
  ASSERT_TRUE(IsJson(subscribe_get(a(), "/before"), 201));
  ASSERT_TRUE(wait_for_route(*a_, "/before", 200));
  const auto metrics = a_->config_url() + "/metrics";
  EXPECT_NE(blackbox::request("GET", metrics).body.find("\ngateway_store_available 1\n"), std::string::npos);
  etcd_->stop();
  const auto down = poll_until_body_has(metrics, "\ngateway_store_available 0\n");
  EXPECT_NE(down.find("\ngateway_store_available 0\n"), std::string::npos) << down;
  for (const auto& base : {a_->config_url(), a_->events_url()}) {
    const auto ready = blackbox::request("GET", base + "/readyz");
    EXPECT_EQ(ready.status, 200) << base << ": " << ready.describe();
    EXPECT_EQ(blackbox::request("GET", base + "/healthz").status, 200) << base;
  }
  EXPECT_EQ(blackbox::request("GET", a_->events_url() + "/before").body, "routed");
  etcd_->start();
  const auto up = poll_until_body_has(metrics, "\ngateway_store_available 1\n");
  EXPECT_NE(up.find("\ngateway_store_available 1\n"), std::string::npos) << up;
}

TEST_F(ClusterTest, InstancesConvergeAfterEtcdCompactsItsHistory) {
  for (const auto* path : {"/old/1", "/old/2", "/old/3"}) ASSERT_TRUE(IsJson(subscribe_get(a(), path), 201));
  ASSERT_TRUE(wait_for_route(*b_, "/old/3", 200));
  const auto compact = blackbox::request("POST", "http://" + etcd_->endpoint() + "/v3/kv/compaction",
                                         R"({"revision":")" + std::to_string(etcd_revision(*etcd_)) +
                                             R"(","physical":true})");
  ASSERT_EQ(compact.status, 200) << compact.describe();

  ASSERT_TRUE(IsJson(subscribe_get(b(), "/new"), 201));
  EXPECT_TRUE(wait_for_route(*a_, "/new", 200));
  // An instance started after the compaction loads everything.
  GatewayProcess late(cluster_options());
  ASSERT_TRUE(late.start());
  for (const auto* path : {"/old/1", "/old/2", "/old/3", "/new"}) {
    EXPECT_TRUE(wait_for_route(late, path, 200)) << path;
  }
  EXPECT_TRUE(late.stop());
}

// etcd restored from an older backup starts again from the backup's, lower, revision. An instance that
// kept watching from the revision it had reached would route what etcd no longer holds and miss every
// new write until etcd's revision caught up with it, all while /v1/status said the store was fine.
TEST_F(ClusterTest, AGatewayNoticesARewoundEtcdAndRoutesWhatItHoldsNow) {
  ASSERT_TRUE(IsJson(subscribe_get(a(), "/kept"), 201));
  const auto backup = etcd_->save_backup("backup.db");
  // Lost with the restore. Enough writes that the registrations after it stay below the revision the
  // instances had reached, so that nothing new reaches an instance that did not notice.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(IsJson(subscribe_get(a(), "/lost/" + std::to_string(i)), 201));
  for (const auto* gateway : {a_.get(), b_.get()}) ASSERT_TRUE(wait_for_route(*gateway, "/lost/4", 200));
  const auto routed_before = etcd_revision(*etcd_);

  etcd_->stop();
  etcd_->restore_backup(backup);
  etcd_->start();
  ASSERT_LT(etcd_revision(*etcd_), routed_before);
  // Whether or not an instance has noticed yet, it does not claim to follow a store it is ahead of.
  for (const auto* gateway : {a_.get(), b_.get()}) expect_truthful_status(*gateway);

  function_.respond("/g", {.body = R"({"statusCode":200,"body":"new"})"});
  ASSERT_TRUE(IsJson(retry_while_unavailable([&] {
                       return b().create_function(kSpace, blackbox::http_function("g", function_.url("/g")));
                     }),
                     201));
  ASSERT_TRUE(IsJson(b().create_subscription(kSpace, blackbox::http_subscription("g", "GET", "/new")), 201));
  for (const auto* gateway : {a_.get(), b_.get()}) {
    expect_truthful_status(*gateway);
    EXPECT_TRUE(wait_for_route(*gateway, "/new", 200))
        << gateway->config_url() << " missed a write after the restore";
    EXPECT_EQ(blackbox::request("GET", gateway->events_url() + "/new").body, "new");
    EXPECT_EQ(blackbox::request("GET", gateway->events_url() + "/kept").status, 200);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(blackbox::request("GET", gateway->events_url() + "/lost/" + std::to_string(i)).status, 404)
          << gateway->config_url() << " still routes a subscription the restore removed";
    }
    const auto status = blackbox::request("GET", gateway->config_url() + "/v1/status").json().at("store");
    EXPECT_EQ(status.at("available"), true) << status;
    EXPECT_EQ(status.at("routingRevision").as_int64(), etcd_revision(*etcd_)) << status;
    // Operators are told what happened, with both revisions.
    EXPECT_NE(gateway->log().find("went back from revision " + std::to_string(routed_before) + " to "),
              std::string::npos)
        << gateway->log();
  }
}

// Every change made through A becomes routable through B, in order. Prints the propagation
// latency (write answered by A → routable on B) for bench/run.sh; no timing is asserted.
TEST_F(ClusterTest, HundredsOfChangesPropagateInOrder) {
  constexpr int kChanges = 200;
  std::vector<double> latencies_ms;
  for (int i = 0; i < kChanges; ++i) {
    const auto path = "/propagation/" + std::to_string(i);
    ASSERT_TRUE(IsJson(subscribe_get(a(), path), 201));
    const auto latency = wait_for_route(*b_, path, 200);
    ASSERT_TRUE(latency) << "change " << i << " never reached B";
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(*latency).count());
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto percentile = [&](double p) {
    return latencies_ms[static_cast<std::size_t>(p * (latencies_ms.size() - 1))];
  };
  std::printf("propagation over %d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", kChanges, percentile(0.5),
              percentile(0.99), latencies_ms.back());
  EXPECT_EQ(b().list_subscriptions(kSpace).size(), static_cast<std::size_t>(kChanges));
}

TEST(ClusterStartup, WithoutEtcdTheGatewaySaysWhyAndExits) {
  const auto ports = blackbox::pick_free_ports(2);
  blackbox::TempDir spool;  // opened before the first read of etcd: not in the working directory
  const auto r =
      blackbox::run_binary({"-db-hosts", "127.0.0.1:" + std::to_string(blackbox::closed_port()),
                            "-db-timeout", "300", "-config-port", std::to_string(ports[0]), "-events-port",
                            std::to_string(ports[1]), "-spool-dir", spool.path().string()});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("cannot connect"), std::string::npos) << r.output();
}

TEST(ClusterStartup, InconsistentEtcdFlagsAreRefused) {
  for (const auto& flags : std::vector<std::vector<std::string>>{{"-db-tls-cert", "client.pem"},
                                                                 {"-db-password", "secret"},
                                                                 {"-db-timeout", "0"}}) {
    const auto r = blackbox::run_binary(flags);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << ": " << r.output();
    EXPECT_NE(r.err.find(flags[0]), std::string::npos) << r.err;
  }
}

// The etcd client (gRPC) is a module next to the binary (EG_ETCD_MODULE_FILE), loaded in cluster mode
// only: these tests run a copy of the binary alone in a directory of its own.
using BinaryWithoutEtcdModule = blackbox::BinaryWithoutModules;

TEST(EtcdModule, DevModeNeitherNeedsNorMapsIt) {
  BinaryWithoutEtcdModule binary;
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  std::ifstream maps("/proc/" + std::to_string(gateway.pid()) + "/maps");
  const std::string mapped{std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(mapped.empty());
  EXPECT_EQ(mapped.find("libgrpc"), std::string::npos) << mapped;
  EXPECT_EQ(mapped.find(EG_ETCD_MODULE_FILE), std::string::npos) << mapped;
  EXPECT_TRUE(gateway.stop());
  EXPECT_EQ(gateway.exit_code(), 0);
}

TEST(EtcdModule, ClusterModeWithoutItSaysWhyAndExits) {
  BinaryWithoutEtcdModule binary;
  const auto ports = blackbox::pick_free_ports(2);
  const auto r = blackbox::run_binary({"-db-hosts", "127.0.0.1:" + std::to_string(blackbox::closed_port()),
                                       "-config-port", std::to_string(ports[0]), "-events-port",
                                       std::to_string(ports[1])});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("cluster mode (a start without -dev) needs the module "), std::string::npos)
      << r.output();
  EXPECT_NE(r.output().find(EG_ETCD_MODULE_FILE ", which is missing"), std::string::npos) << r.output();
  EXPECT_NE(r.output().find("copy it from the build into either"), std::string::npos) << r.output();
}

// An etcd that takes TLS clients with a certificate only, and has authentication on.
TEST(ClusterSecurity, ConnectsWithTlsAClientCertificateAndAPassword) {
  if (auto reason = testsupport::why_no_etcd()) GTEST_SKIP() << *reason;
  testsupport::Certificates certificates;
  ASSERT_TRUE(certificates.ok());
  const std::vector<std::string> client_tls{"--cacert=" + certificates.file("ca.pem"),
                                            "--cert=" + certificates.file("client.pem"),
                                            "--key=" + certificates.file("client.key")};
  auto with_tls = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.end(), client_tls.begin(), client_tls.end());
    return arguments;
  };
  testsupport::EtcdProcess etcd(
      [&](const std::string& endpoint) {
        return testsupport::run_program(
            with_tls({testsupport::etcdctl_binary(), "--endpoints=" + endpoint, "endpoint", "health"}),
            certificates.file("probe.log"));
      },
      {"--cert-file=" + certificates.file("server.pem"), "--key-file=" + certificates.file("server.key"),
       "--trusted-ca-file=" + certificates.file("ca.pem"), "--client-cert-auth"},
      /*tls=*/true);
  ASSERT_TRUE(etcd.etcdctl(with_tls({"user", "add", "root:secret"})));
  ASSERT_TRUE(etcd.etcdctl(with_tls({"auth", "enable"})));

  GatewayOptions options{.extra_args = {"-db-hosts", "https://" + etcd.endpoint(), "-db-tls-ca",
                                        certificates.file("ca.pem"), "-db-tls-cert", certificates.file("client.pem"),
                                        "-db-tls-key", certificates.file("client.key"), "-db-user", "root"},
                         .dev_flag = "",
                         .pass_data_dir = false,
                         .environment = {"EVENT_GATEWAY_DB_PASSWORD=secret"}};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  ConfigClient api(gateway.config_url());
  EXPECT_TRUE(IsJson(api.create_function("secure", blackbox::http_function("f")), 201));
  const auto stored = etcd.etcdctl(with_tls({"--user=root:secret", "get", "--print-value-only",
                                             "/serverless-event-gateway/spaces/secure/functions/f"}));
  ASSERT_TRUE(stored);
  EXPECT_NE(stored->find(R"("functionId":"f")"), std::string::npos) << *stored;
  EXPECT_TRUE(gateway.stop());

  options.environment = {"EVENT_GATEWAY_DB_PASSWORD=wrong"};
  options.ready_timeout = 3s;
  GatewayProcess refused(options);
  EXPECT_FALSE(refused.start());
  EXPECT_NE(refused.log().find("authenticate as 'root'"), std::string::npos) << refused.log();
}

}  // namespace
