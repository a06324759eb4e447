// What only the etcd store does: fail fast when etcd is down, resume watches after etcd restarts,
// fail over between endpoints, authenticate. Each test that needs etcd starts its own on free
// loopback ports (tests/common/etcd_process.h), since these tests stop and restart it;
// they are skipped when there is no etcd binary. The Store contract itself runs against etcd in
// store_test.cpp, through etcd_test_backend.h.

#include "store/etcd/etcd_store.h"
#include "../store_test_support.h"
#include "common/certificates.h"
#include "common/etcd_process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace eg::store {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::compacted_revision_of;

constexpr auto kWaitTimeout = 15s;  // etcd restarts, watch reconnects, sanitizer builds

using testsupport::etcdctl_binary;
using testsupport::free_port;

// An etcd of the test's own (tests/common/etcd_process.h). It serves once an EtcdStore built from
// client_options() can read; a test updates those options when it turns on TLS or authentication.
class EtcdProcess {
 public:
  explicit EtcdProcess(std::vector<std::string> extra_arguments = {}, EtcdOptions tls = {})
      : client_options_(std::make_shared<EtcdOptions>(std::move(tls))),
        process_([options = client_options_](const std::string& endpoint) { return serves(*options, endpoint); },
                 std::move(extra_arguments), !client_options_->tls_ca_file.empty()) {}

  std::string endpoint() const { return process_.endpoint(); }
  EtcdOptions& client_options() { return *client_options_; }
  void start() { process_.start(); }
  void stop() { process_.stop(); }
  std::optional<std::string> etcdctl(std::vector<std::string> arguments) {
    return process_.etcdctl(std::move(arguments));
  }
  std::filesystem::path save_backup(const std::string& name) { return process_.save_backup(name); }
  void restore_backup(const std::filesystem::path& backup, const std::string& cluster_token = "") {
    process_.restore_backup(backup, cluster_token);
  }
  void wipe_data() { process_.wipe_data(); }

 private:
  static bool serves(EtcdOptions options, const std::string& endpoint) {
    options.endpoints = endpoint;
    options.request_timeout = 500ms;
    try {
      EtcdStore(options).get("/probe");
      return true;
    } catch (const StoreUnavailable&) {
      return false;
    }
  }

  std::shared_ptr<EtcdOptions> client_options_;  // shared with the probe
  testsupport::EtcdProcess process_;
};

// Records what one watch delivers and lets a test wait for it.
class Recorder {
 public:
  WatchCallback on_events() {
    return [this](const std::vector<WatchEvent>& events) {
      std::lock_guard lock(mutex_);
      events_.insert(events_.end(), events.begin(), events.end());
      changed_.notify_all();
    };
  }
  WatchErrorCallback on_error() {
    return [this](std::exception_ptr error) {
      std::lock_guard lock(mutex_);
      error_ = std::move(error);
      changed_.notify_all();
    };
  }
  std::vector<WatchEvent> wait_for_key(const std::string& key) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kWaitTimeout, [&] {
      return std::any_of(events_.begin(), events_.end(),
                         [&](const WatchEvent& event) { return event.kv.key == key; });
    });
    return events_;
  }
  std::exception_ptr wait_for_error() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kWaitTimeout, [&] { return error_ != nullptr; });
    return error_;
  }
  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<WatchEvent> events_;
  std::exception_ptr error_;
};

std::vector<std::string> keys_of(const std::vector<WatchEvent>& events) {
  std::vector<std::string> keys;
  for (const auto& event : events) keys.push_back(event.kv.key);
  return keys;
}

TxnResult put(Store& store, const std::string& key, const std::string& value) {
  return store.txn(TxnRequest{{}, {Operation::put(key, value)}, {}});
}


std::string message_of(const std::exception_ptr& error) {
  if (!error) return "no error";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The message of a watch error that is StoreRewound, or nothing.
std::optional<std::string> rewound_message_of(const std::exception_ptr& error) {
  if (!error) return std::nullopt;
  try {
    std::rethrow_exception(error);
  } catch (const StoreRewound& rewound) {
    return rewound.what();
  } catch (...) {
    return std::nullopt;
  }
}

// Runs `call`, which must throw StoreUnavailable; returns how long it took.
template <typename Call>
Clock::duration time_to_unavailable(const Call& call, std::string* message = nullptr) {
  const auto start = Clock::now();
  try {
    call();
    ADD_FAILURE() << "no StoreUnavailable";
  } catch (const StoreUnavailable& unavailable) {
    if (message != nullptr) *message = unavailable.what();
  }
  return Clock::now() - start;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = testsupport::why_no_etcd()) GTEST_SKIP() << *reason;
  }

  static EtcdOptions options_for(const std::string& endpoints) {
    EtcdOptions options;
    options.endpoints = endpoints;
    options.request_timeout = 1s;
    return options;
  }
};

TEST(EtcdStoreOptionsTest, DescribeNamesTheEndpointsWithoutSchemes) {
  EtcdOptions options;
  options.endpoints = " http://127.0.0.1:2379/, 10.0.0.2:2379 ";
  EXPECT_EQ(EtcdStore(options).describe(), "etcd (127.0.0.1:2379,10.0.0.2:2379)");
}

TEST(EtcdStoreOptionsTest, NoEndpointIsRefused) {
  EtcdOptions options;
  options.endpoints = " , ";
  EXPECT_THROW(EtcdStore{options}, std::invalid_argument);
}

TEST(EtcdStoreOptionsTest, UnreadableTlsFileIsUnavailable) {
  EtcdOptions options;
  options.tls_ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(EtcdStore{options}, StoreUnavailable);
}

TEST(EtcdStoreOptionsTest, NoServerFailsFastWithStoreUnavailable) {
  EtcdOptions options;
  options.endpoints = "127.0.0.1:" + std::to_string(free_port());
  options.request_timeout = 1s;
  EtcdStore store(options);
  std::string message;
  EXPECT_LT(time_to_unavailable([&] { store.get("/k"); }, &message), 2s);
  EXPECT_NE(message.find(options.endpoints), std::string::npos) << message;
  EXPECT_LT(time_to_unavailable([&] { put(store, "/k", "v"); }), 2s);
  EXPECT_LT(time_to_unavailable([&] { store.compact(1); }), 2s);
  EXPECT_LT(time_to_unavailable([&] {
              store.watch_prefix(
                  "/", 0, [](const auto&) {}, [](auto) {});
            }),
            2s);
}

TEST_F(EtcdStoreTest, StoppedEtcdFailsFastAndALiveWatchResumesAfterItsRestart) {
  EtcdProcess etcd;
  EtcdStore store(options_for(etcd.endpoint()));
  Recorder recorder;
  const auto handle = store.watch_prefix("/live/", 0, recorder.on_events(), recorder.on_error());
  const auto before = put(store, "/live/before", "v").revision;
  ASSERT_EQ(keys_of(recorder.wait_for_key("/live/before")), std::vector<std::string>{"/live/before"});

  etcd.stop();
  std::string message;
  EXPECT_LT(time_to_unavailable([&] { store.get("/live/before"); }, &message), 2500ms);
  EXPECT_NE(message.find(etcd.endpoint()), std::string::npos) << message;
  EXPECT_LT(time_to_unavailable([&] { put(store, "/live/during", "v"); }), 2500ms);
  EXPECT_LT(time_to_unavailable([&] { store.get_prefix("/live/"); }), 2500ms);
  std::this_thread::sleep_for(1s);  // the watch retries meanwhile
  EXPECT_FALSE(recorder.error()) << message_of(recorder.error());

  etcd.start();
  // The same client, with no restart: reads and writes work again, the watch has resumed.
  EXPECT_EQ(store.get("/live/before").kvs.at(0).mod_revision, before);
  EtcdStore other(options_for(etcd.endpoint()));
  put(other, "/live/after-1", "v");
  const auto last = put(other, "/live/after-2", "v").revision;
  const auto events = recorder.wait_for_key("/live/after-2");
  EXPECT_EQ(keys_of(events), (std::vector<std::string>{"/live/before", "/live/after-1", "/live/after-2"}));
  EXPECT_EQ(events.back().kv.mod_revision, last);
  EXPECT_FALSE(recorder.error()) << message_of(recorder.error());
}

TEST_F(EtcdStoreTest, WatchStartedWhileEtcdIsDownConnectsWhenItComesBack) {
  EtcdProcess etcd;
  EtcdStore store(options_for(etcd.endpoint()));
  const auto start = put(store, "/down/first", "v").revision;
  etcd.stop();
  Recorder recorder;
  const auto handle = store.watch_prefix("/down/", start, recorder.on_events(), recorder.on_error());
  std::this_thread::sleep_for(500ms);
  etcd.start();
  put(store, "/down/second", "v");
  EXPECT_EQ(keys_of(recorder.wait_for_key("/down/second")),
            (std::vector<std::string>{"/down/first", "/down/second"}));
  EXPECT_FALSE(recorder.error()) << message_of(recorder.error());
}

TEST_F(EtcdStoreTest, WatchFromACompactedRevisionAfterARestartReportsRevisionCompacted) {
  EtcdProcess etcd;
  std::int64_t first = 0, last = 0;
  {
    EtcdStore store(options_for(etcd.endpoint()));
    first = put(store, "/h/k", "1").revision;
    put(store, "/h/k", "2");
    last = put(store, "/h/k", "3").revision;
    store.compact(last);
    EXPECT_NO_THROW(store.compact(first));  // already compacted: nothing to do
    EXPECT_THROW(store.compact(last + 10), std::invalid_argument);
  }
  etcd.stop();
  etcd.start();
  EtcdStore store(options_for(etcd.endpoint()));
  Recorder too_old, kept;
  const auto failed = store.watch_prefix("/h/", first, too_old.on_events(), too_old.on_error());
  const auto live = store.watch_prefix("/h/", last, kept.on_events(), kept.on_error());
  EXPECT_EQ(compacted_revision_of(too_old.wait_for_error()), last);
  EXPECT_EQ(kept.wait_for_key("/h/k").size(), 1u);
  EXPECT_FALSE(kept.error()) << message_of(kept.error());
}

// A watch resumed on a wiped etcd would wait for revisions that the new history gives to other
// changes, and never deliver what etcd holds now.
TEST_F(EtcdStoreTest, AWatchOnAnEtcdWhoseDataWasWipedEndsWithStoreRewound) {
  EtcdProcess etcd;
  EtcdStore store(options_for(etcd.endpoint()));
  for (int i = 0; i < 3; ++i) put(store, "/w/" + std::to_string(i), "v");
  Recorder recorder;
  const auto handle = store.watch_prefix("/w/", 0, recorder.on_events(), recorder.on_error());
  const auto reached = put(store, "/w/last", "v").revision;
  ASSERT_EQ(recorder.wait_for_key("/w/last").size(), 1u);

  etcd.stop();
  etcd.wipe_data();
  etcd.start();
  const auto message = rewound_message_of(recorder.wait_for_error());
  ASSERT_TRUE(message) << message_of(recorder.error());
  EXPECT_NE(message->find(etcd.endpoint() + " went back from revision " + std::to_string(reached) + " to 1"),
            std::string::npos)
      << *message;

  // Read again, a watch follows the new history.
  const auto now = store.get_prefix("/w/");
  EXPECT_TRUE(now.kvs.empty());
  Recorder after;
  const auto resumed = store.watch_prefix("/w/", now.revision + 1, after.on_events(), after.on_error());
  put(store, "/w/new", "v");
  EXPECT_EQ(keys_of(after.wait_for_key("/w/new")), std::vector<std::string>{"/w/new"});
  EXPECT_FALSE(after.error()) << message_of(after.error());
}

// Restored from a backup taken after the last write, under another cluster token: the same keys at the
// same revision, but another cluster, whose later revisions need not be the ones this one would have had.
TEST_F(EtcdStoreTest, AWatchNoticesAnotherClusterAtTheSameAddress) {
  EtcdProcess etcd;
  EtcdStore store(options_for(etcd.endpoint()));
  Recorder recorder;
  const auto handle = store.watch_prefix("/c/", 0, recorder.on_events(), recorder.on_error());
  put(store, "/c/k", "v");
  ASSERT_EQ(recorder.wait_for_key("/c/k").size(), 1u);
  const auto backup = etcd.save_backup("backup.db");

  etcd.stop();
  etcd.restore_backup(backup, "another-cluster");
  etcd.start();
  const auto message = rewound_message_of(recorder.wait_for_error());
  ASSERT_TRUE(message) << message_of(recorder.error());
  EXPECT_NE(message->find("is another cluster: its cluster id changed from "), std::string::npos) << *message;
}

// The same data after a restart is the same history: the watch goes on (and sees no rewind).
TEST_F(EtcdStoreTest, AWatchOnARestoredUpToDateBackupGoesOn) {
  EtcdProcess etcd;
  EtcdStore store(options_for(etcd.endpoint()));
  Recorder recorder;
  const auto handle = store.watch_prefix("/u/", 0, recorder.on_events(), recorder.on_error());
  put(store, "/u/before", "v");
  ASSERT_EQ(recorder.wait_for_key("/u/before").size(), 1u);
  const auto backup = etcd.save_backup("backup.db");

  etcd.stop();
  etcd.restore_backup(backup);
  etcd.start();
  EtcdStore other(options_for(etcd.endpoint()));  // `store` may still be backing off from its last try
  put(other, "/u/after", "v");
  EXPECT_EQ(keys_of(recorder.wait_for_key("/u/after")), (std::vector<std::string>{"/u/before", "/u/after"}));
  EXPECT_FALSE(recorder.error()) << message_of(recorder.error());
}

TEST_F(EtcdStoreTest, FailsOverToTheNextEndpoint) {
  EtcdProcess etcd;
  const auto dead = "127.0.0.1:" + std::to_string(free_port());
  EtcdStore store(options_for(dead + "," + etcd.endpoint()));
  EXPECT_NO_THROW(store.get("/k"));  // reads retry on the next endpoint within their deadline
  try {
    put(store, "/f/a", "v");  // a write is never sent twice: it may fail once, then use the next
  } catch (const StoreUnavailable&) {
  }
  const auto written = put(store, "/f/b", "v").revision;
  Recorder recorder;
  const auto handle = store.watch_prefix("/f/", written, recorder.on_events(), recorder.on_error());
  EXPECT_EQ(keys_of(recorder.wait_for_key("/f/b")), std::vector<std::string>{"/f/b"});
}

TEST_F(EtcdStoreTest, KeyPrefixesSeparateKeyspaces) {
  EtcdProcess etcd;
  auto options = options_for(etcd.endpoint());
  options.key_prefix = "/one";
  EtcdStore one(options);
  options.key_prefix = "/two";
  EtcdStore two(options);
  options.key_prefix = "";
  EtcdStore whole(options);
  put(one, "/k", "1");
  put(two, "/k", "2");
  EXPECT_EQ(one.get("/k").kvs.at(0).value, "1");
  EXPECT_EQ(two.get("/k").kvs.at(0).value, "2");
  EXPECT_EQ(one.get_prefix("/").kvs.size(), 1u);
  EXPECT_EQ(whole.get("/one/k").kvs.at(0).value, "1");
  EXPECT_EQ(whole.get_prefix("/").kvs.size(), 2u);
}

TEST_F(EtcdStoreTest, AuthenticatesAndRenewsAnExpiredToken) {
  // Simple tokens expire after --auth-token-ttl seconds without use.
  EtcdProcess etcd({"--auth-token-ttl=1"});
  if (access(etcdctl_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "no etcdctl at " << etcdctl_binary();
  ASSERT_TRUE(etcd.etcdctl({"user", "add", "root:secret"}));
  ASSERT_TRUE(etcd.etcdctl({"auth", "enable"}));

  auto options = options_for(etcd.endpoint());
  options.username = "root";
  options.password = "secret";
  EtcdStore store(options);
  const auto written = put(store, "/a/k", "v").revision;
  EXPECT_EQ(store.get("/a/k").kvs.at(0).value, "v");
  Recorder recorder;
  const auto handle = store.watch_prefix("/a/", written, recorder.on_events(), recorder.on_error());
  EXPECT_EQ(recorder.wait_for_key("/a/k").size(), 1u);

  std::this_thread::sleep_for(3s);  // the token expires
  EXPECT_EQ(put(store, "/a/later", "v").revision, written + 1);
  EXPECT_EQ(store.get("/a/later").kvs.size(), 1u);
  EXPECT_EQ(recorder.wait_for_key("/a/later").size(), 2u);

  // A restarted etcd has forgotten every token: calls and the watch authenticate again.
  etcd.client_options().username = "root";
  etcd.client_options().password = "secret";
  etcd.stop();
  etcd.start();
  put(store, "/a/restarted", "v");
  EXPECT_EQ(recorder.wait_for_key("/a/restarted").size(), 3u);
  EXPECT_FALSE(recorder.error()) << message_of(recorder.error());

  options.password = "wrong";
  EtcdStore wrong(options);
  std::string message;
  time_to_unavailable([&] { wrong.get("/a/k"); }, &message);
  EXPECT_NE(message.find("authenticate as 'root'"), std::string::npos) << message;

  options.username.clear();
  EtcdStore anonymous(options);
  EXPECT_THROW(anonymous.get("/a/k"), StoreUnavailable);
  EXPECT_THROW(put(anonymous, "/a/k", "x"), StoreUnavailable);
}

TEST_F(EtcdStoreTest, SpeaksTlsWithAClientCertificate) {
  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl to make certificates";
  testsupport::Certificates certificates;
  ASSERT_TRUE(certificates.ok());
  EtcdOptions tls;
  tls.tls_ca_file = certificates.file("ca.pem");
  tls.tls_cert_file = certificates.file("client.pem");
  tls.tls_key_file = certificates.file("client.key");
  EtcdProcess etcd(
      {"--cert-file=" + certificates.file("server.pem"), "--key-file=" + certificates.file("server.key"),
       "--trusted-ca-file=" + certificates.file("ca.pem"), "--client-cert-auth"},
      tls);

  auto options = tls;
  options.endpoints = "https://" + etcd.endpoint();
  options.request_timeout = 1s;
  EtcdStore store(options);
  const auto written = put(store, "/tls/k", "v").revision;
  EXPECT_EQ(store.get("/tls/k").kvs.at(0).value, "v");
  Recorder recorder;
  const auto handle = store.watch_prefix("/tls/", written, recorder.on_events(), recorder.on_error());
  EXPECT_EQ(recorder.wait_for_key("/tls/k").size(), 1u);

  options.tls_cert_file.clear();  // etcd asks for a client certificate
  options.tls_key_file.clear();
  EtcdStore without_certificate(options);
  EXPECT_THROW(without_certificate.get("/tls/k"), StoreUnavailable);
  options = EtcdOptions{};  // plain text to a TLS port
  options.endpoints = etcd.endpoint();
  options.request_timeout = 1s;
  EtcdStore plain(options);
  EXPECT_THROW(plain.get("/tls/k"), StoreUnavailable);
}

TEST_F(EtcdStoreTest, DestroyingTheStoreEndsLiveWatches) {
  EtcdProcess etcd;
  Recorder recorder;
  std::unique_ptr<WatchHandle> handle;
  {
    EtcdStore store(options_for(etcd.endpoint()));
    handle = store.watch_prefix("/", 0, recorder.on_events(), recorder.on_error());
  }
  const auto error = recorder.error();
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), StoreUnavailable);
  handle.reset();  // outliving the store is safe
}

}  // namespace
}  // namespace eg::store
