// Black-box tests of what the gateway keeps and passes on (issue 12, items 3, 9 and 12): numbers
// that stay JSON, text that stays UTF-8, and an embedded store that keeps no more than it must and
// lets no one else read it. Each test runs a gateway of its own: several look at its data directory,
// restart it, or subscribe to system events.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "store/keys.h"
#include "store/sqlite_store.h"
#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using blackbox::ConfigClient;
using blackbox::custom_subscription;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::http_function;
using blackbox::http_subscription;
using blackbox::HttpResponse;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::RecordedRequest;
using blackbox::to_json;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Strict: Boost.JSON refuses ill-formed UTF-8 and `Infinity`, as every conforming parser does.
bool is_json(std::string_view text) {
  boost::system::error_code error;
  bj::parse(text, error);
  return !error;
}

std::string string_at(const bj::value& value, std::initializer_list<std::string_view> path) {
  const bj::value* at = &value;
  for (auto key : path) {
    const auto* object = at->if_object();
    at = object ? object->if_contains(key) : nullptr;
    if (at == nullptr) return "<absent>";
  }
  return at->is_string() ? std::string(at->get_string()) : to_json(*at);
}

// Polls until GET `path` on the Events API no longer answers 404: the route is in the snapshot.
::testing::AssertionResult wait_until_routed(const GatewayProcess& gateway, const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  HttpResponse r;
  while (std::chrono::steady_clock::now() < deadline) {
    r = blackbox::request("GET", gateway.events_url() + path);
    if (r.status != 0 && r.status != 404) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(10ms);
  }
  return ::testing::AssertionFailure() << path << " not routed after 5 s: " << r.describe();
}

// An http route whose function answers at `upstream` "/probe": what wait_until_routed polls, so that
// everything configured before it is routable too (snapshots apply changes in order).
::testing::AssertionResult sync(const GatewayProcess& gateway, const UpstreamServer& upstream) {
  static int probes = 0;
  ConfigClient api(gateway.config_url());
  const auto f = api.create_function("default", http_function("probe", upstream.url("/probe")));
  if (f.status != 201 && f.status != 409) return ::testing::AssertionFailure() << f.describe();
  const auto path = "/probe/" + std::to_string(probes++);
  const auto s = api.create_subscription("default", http_subscription("probe", "GET", path));
  if (s.status != 201) return ::testing::AssertionFailure() << s.describe();
  return wait_until_routed(gateway, path);
}

std::vector<RecordedRequest> requests_whose_body_is_not_json(const std::vector<RecordedRequest>& requests) {
  std::vector<RecordedRequest> invalid;
  for (const auto& request : requests) {
    if (!is_json(request.body)) invalid.push_back(request);
  }
  return invalid;
}

std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every file of the embedded store, read as it is on disk (config.db, -wal, -shm, ...).
std::string store_bytes(const fs::path& data_dir) {
  std::string bytes;
  // Its files only: the spool's directory (dev mode) is beside them.
  for (const auto& entry : fs::directory_iterator(data_dir)) {
    if (entry.is_regular_file()) bytes += file_bytes(entry.path());
  }
  return bytes;
}

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return 0;
  return status.st_mode & 0777;
}

// ---- item 3: numbers that stay JSON ----------------------------------------------------------------------

TEST(DataValidity, NonFiniteNumbersAreRefusedWith400AndNothingIsStored) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  ConfigClient api(gateway.config_url());
  const std::string huge_integer = "1" + std::string(10'000, '0');
  for (const std::string& number : {std::string("1e400"), std::string("-1e400"), huge_integer}) {
    SCOPED_TRACE(number.substr(0, 20));
    const auto created = api.send(
        "POST", ConfigClient::functions("default"),
        R"({"functionId":"f","type":"http","provider":{"url":"http://127.0.0.1:9/","n":)" + number + "}}");
    EXPECT_TRUE(IsJsonError(created, 400));
    EXPECT_NE(created.body.find("number out of range"), std::string::npos) << created.body;
  }
  ASSERT_EQ(api.create_function("default", http_function("g")).status, 201);
  const auto updated =
      api.send("PUT", ConfigClient::functions("default") + "/g",
               R"({"type":"http","provider":{"url":"http://127.0.0.1:9/","timeout":1e400}})");
  EXPECT_TRUE(IsJsonError(updated, 400));
  const auto subscribed = api.send("POST", ConfigClient::subscriptions("default"),
                                   R"({"event":"e","functionId":"g","weight":1e400})");
  EXPECT_TRUE(IsJsonError(subscribed, 400));

  // Nothing was stored, and what was is whole, after a restart too.
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(run == 0 ? "before the restart" : "after the restart");
    EXPECT_TRUE(IsJsonError(api.get_function("default", "f"), 404));
    const auto g = api.get_function("default", "g");
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(to_json(g.json().at("provider")), R"({"url":"http://127.0.0.1:9/hello"})");
    EXPECT_EQ(api.list_functions("default").size(), 1u);
    EXPECT_TRUE(api.list_subscriptions("default").empty());
    if (run == 0) {
      ASSERT_TRUE(gateway.restart());
    }
  }
}

TEST(DataValidity, EventDataWithNonFiniteNumbersIsRefusedWith400AndNothingIsDelivered) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  UpstreamServer upstream;
  ConfigClient api(gateway.config_url());
  ASSERT_EQ(api.create_function("default", http_function("f", upstream.url("/f"))).status, 201);
  ASSERT_EQ(api.create_subscription("default", custom_subscription("e", "f", "/events")).status, 201);
  ASSERT_EQ(api.create_subscription("default", custom_subscription("invoke", "f")).status, 201);
  ASSERT_EQ(api.create_subscription("default", http_subscription("f", "POST", "/http")).status, 201);
  ASSERT_TRUE(sync(gateway, upstream));

  const blackbox::Headers json{{"Content-Type", "application/json"}};
  const std::string body = R"({"a":[1,{"b":1e400}]})";
  auto emitted = blackbox::request("POST", gateway.events_url() + "/events", body,
                                   {{"Content-Type", "application/json"}, {"Event", "e"}});
  EXPECT_TRUE(IsJsonError(emitted, 400));
  EXPECT_NE(emitted.body.find("number out of range"), std::string::npos) << emitted.body;
  auto invoked =
      blackbox::request("POST", gateway.events_url() + "/", body,
                        {{"Content-Type", "application/json"}, {"Event", "invoke"}, {"Function-ID", "f"}});
  EXPECT_TRUE(IsJsonError(invoked, 400));
  EXPECT_TRUE(IsJsonError(blackbox::request("POST", gateway.events_url() + "/http", body, json), 400));

  // A later, valid event arrives alone: the refused ones, sent before it, were not delivered.
  upstream.respond("/f", UpstreamResponse{.body = R"({"statusCode":200,"body":"ok"})"});
  EXPECT_EQ(blackbox::request("POST", gateway.events_url() + "/events", R"({"a":1e300})",
                              {{"Content-Type", "application/json"}, {"Event", "e"}})
                .status,
            202);
  ASSERT_TRUE(upstream.wait_for_requests("/f", 1));
  std::this_thread::sleep_for(200ms);
  const auto delivered = upstream.requests("/f");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(to_json(delivered.front().json().at("data")), R"({"a":1E300})");
}

// A record a gateway cannot read, written straight into the store (as an older gateway wrote `1e400`,
// or a tool that bypasses the Configuration API).
void write_behind_the_gateway(const fs::path& data_dir, const std::string& key, const std::string& value) {
  eg::store::SqliteStore store(data_dir);
  store.txn(eg::store::TxnRequest{.success = {eg::store::Operation::put(key, value)}});
}

TEST(DataValidity, AnUnreadableRecordIsReportedInStatus) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  UpstreamServer upstream;
  ConfigClient api(gateway.config_url());
  ASSERT_EQ(api.create_function("default", http_function("fine", upstream.url("/fine"))).status, 201);
  ASSERT_EQ(api.create_function("default", http_function("broken", upstream.url("/broken"))).status, 201);
  ASSERT_EQ(api.create_subscription("default", http_subscription("broken", "GET", "/broken")).status, 201);
  ASSERT_TRUE(gateway.stop());
  const auto key = eg::store::keys::function("default", "broken");
  write_behind_the_gateway(gateway.data_dir(), key,
                           R"({"space":"default","functionId":"broken","type":"http",)"
                           R"("provider":{"url":"http://127.0.0.1:9/","n":Infinity}})");
  const auto log_before = gateway.log_size();
  ASSERT_TRUE(gateway.start());

  const auto status = blackbox::request("GET", gateway.config_url() + "/v1/status");
  ASSERT_TRUE(IsJson(status, 200));
  const auto status_json = status.json();
  const auto& unreadable = status_json.at("store").at("unreadableRecords");
  ASSERT_TRUE(unreadable.is_array()) << status.body;
  ASSERT_EQ(unreadable.as_array().size(), 1u) << status.body;
  EXPECT_EQ(string_at(unreadable.as_array()[0], {"key"}), key);
  EXPECT_NE(string_at(unreadable.as_array()[0], {"reason"}).find("malformed JSON"), std::string::npos)
      << status.body;
  EXPECT_NE(gateway.log_since(log_before).find(key), std::string::npos) << "the log names the record";

  // The Configuration API says what is wrong and how to repair it, and still lists the rest.
  const auto got = api.get_function("default", "broken");
  EXPECT_TRUE(IsJsonError(got, 500));
  EXPECT_NE(got.body.find("cannot be read"), std::string::npos) << got.body;
  const auto listed = api.list_functions("default");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(string_at(listed[0], {"functionId"}), "fine");

  // Replacing it repairs it: the status no longer lists it, and its route works again.
  ASSERT_EQ(api.put(ConfigClient::functions("default") + "/broken",
                    http_function("broken", upstream.url("/broken")))
                .status,
            200);
  ASSERT_TRUE(wait_until_routed(gateway, "/broken"));
  const auto repaired = blackbox::request("GET", gateway.config_url() + "/v1/status");
  EXPECT_TRUE(repaired.json().at("store").at("unreadableRecords").as_array().empty()) << repaired.body;
}

// ---- item 9: valid text to functions --------------------------------------------------------------------

TEST(DataValidity, NonUtf8BytesReachFunctionsAsValidJson) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  UpstreamServer upstream;
  upstream.respond("/f", UpstreamResponse{.body = R"({"statusCode":200,"body":"ok"})"});
  ConfigClient api(gateway.config_url());
  ASSERT_EQ(api.create_function("default", http_function("f", upstream.url("/f"))).status, 201);
  ASSERT_EQ(api.create_subscription("default", http_subscription("f", "GET", "/text/:name")).status, 201);
  ASSERT_EQ(api.create_subscription("default", custom_subscription("e", "f", "/events")).status, 201);
  ASSERT_TRUE(sync(gateway, upstream));

  const auto answered = blackbox::request("GET", gateway.events_url() + "/text/a%FFb?k%FE=v%C3&ok=%E2%82%AC",
                                          "", {{"X-Raw", "caf\xE9 \xF0\x9F\x98"}});
  EXPECT_EQ(answered.status, 200) << answered.describe();
  EXPECT_EQ(blackbox::request("POST", gateway.events_url() + "/events", "x",
                              {{"Content-Type", "text/plain; name=\xFF"}, {"Event", "e"}})
                .status,
            202);
  ASSERT_TRUE(upstream.wait_for_requests("/f", 2));
  const auto requests = upstream.requests("/f");
  ASSERT_TRUE(requests_whose_body_is_not_json(requests).empty())
      << requests_whose_body_is_not_json(requests).front().body;

  const auto http = requests[0].json();
  EXPECT_EQ(string_at(http, {"data", "path"}), "/text/a" + kReplacement + "b");
  EXPECT_EQ(string_at(http, {"data", "params", "name"}), "a" + kReplacement + "b");
  EXPECT_EQ(string_at(http, {"data", "headers", "X-Raw"}), "caf" + kReplacement + " " + kReplacement);
  EXPECT_EQ(to_json(http.at("data").at("query")),
            R"({"k)" + kReplacement + R"(":["v)" + kReplacement + R"("],"ok":["€"]})");
  const auto custom = requests[1].json();
  EXPECT_EQ(string_at(custom, {"dataType"}), "text/plain; name=" + kReplacement);

  // Error messages that quote the request are valid JSON too.
  const auto not_found = blackbox::request("GET", gateway.events_url() + "/nothing%FF");
  EXPECT_TRUE(IsJsonError(not_found, 404));
  EXPECT_TRUE(is_json(not_found.body)) << not_found.body;
}

TEST(DataValidity, SystemEventsAreValidJsonWhateverTheFunctionAnswers) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  UpstreamServer upstream;
  ConfigClient api(gateway.config_url());
  ASSERT_EQ(api.create_function("default", http_function("f", upstream.url("/f"))).status, 201);
  ASSERT_EQ(api.create_function("default", http_function("recorder", upstream.url("/recorder"))).status, 201);
  ASSERT_EQ(api.create_subscription("default", custom_subscription("invoke", "f")).status, 201);
  for (const std::string name : {"gateway.event.received", "gateway.function.invoked"}) {
    ASSERT_EQ(api.create_subscription("default", custom_subscription(name, "recorder")).status, 201);
  }
  ASSERT_TRUE(sync(gateway, upstream));

  const blackbox::Headers invoke{{"Event", "invoke"}, {"Function-ID", "f"}, {"X-Raw", "\xFF"}};
  upstream.respond("/f",
                   UpstreamResponse{.headers = {{"Content-Type", "text/plain"}}, .body = "bytes \xFE\xFF"});
  EXPECT_EQ(blackbox::request("POST", gateway.events_url() + "/", "", invoke).status, 200);
  upstream.respond("/f", UpstreamResponse{.body = R"({"n":1e400})"});
  EXPECT_EQ(blackbox::request("POST", gateway.events_url() + "/", "", invoke).status, 200);

  const auto is_report_about_invoke = [](const RecordedRequest& request) {
    return request.path == "/recorder" && request.body.find(R"("event":"invoke")") != std::string::npos;
  };
  ASSERT_TRUE(upstream.wait_until(
      [&](const std::vector<RecordedRequest>& all) {
        return std::count_if(all.begin(), all.end(), is_report_about_invoke) >= 4;
      },
      "two received and two invoked reports about the invocations"));
  const auto reports = upstream.requests("/recorder");
  ASSERT_TRUE(requests_whose_body_is_not_json(reports).empty())
      << requests_whose_body_is_not_json(reports).front().body;

  std::vector<std::string> results;
  for (const auto& report : reports) {
    const auto event = report.json();
    if (string_at(event, {"data", "event", "event"}) != "invoke") continue;  // the sync probe's
    if (string_at(event, {"event"}) == "gateway.event.received") {
      EXPECT_EQ(string_at(event, {"data", "headers", "X-Raw"}), kReplacement);
    } else {
      results.push_back(string_at(event, {"data", "result"}));
    }
  }
  std::sort(results.begin(), results.end());
  // Text that is not JSON the gateway may pass on is passed on as text.
  EXPECT_EQ(results, (std::vector<std::string>{"bytes " + kReplacement + kReplacement, R"({"n":1e400})"}));
}

// ---- item 12: quiet storage -----------------------------------------------------------------------------

GatewayOptions with_data_dir(const fs::path& data_dir) {
  GatewayOptions options;
  options.pass_data_dir = false;
  options.extra_args = {"-embed-data-dir", data_dir.string()};
  return options;
}

TEST(DataValidity, TheEmbeddedStoreIsReadableOnlyByItsOwner) {
  blackbox::TempDir temp;
  const auto data_dir = temp.path() / "store";
  GatewayProcess gateway(with_data_dir(data_dir));
  ASSERT_TRUE(gateway.start());
  ASSERT_EQ(ConfigClient(gateway.config_url()).create_function("default", http_function("f")).status, 201);
  EXPECT_EQ(mode_of(data_dir), 0700u);
  EXPECT_EQ(mode_of(data_dir / "config.db"), 0600u);
  ASSERT_TRUE(fs::exists(data_dir / "config.db-wal"));
  // The spool's directory (dev mode: in the data directory) and the dead letters in it too.
  ASSERT_TRUE(fs::exists(data_dir / "spool" / "deadletters.db"));
  for (const auto& entry : fs::recursive_directory_iterator(data_dir)) {
    EXPECT_EQ(mode_of(entry.path()), entry.is_directory() ? 0700u : 0600u) << entry.path();
  }

  // A store an older gateway left readable by everyone: its files are fixed, its directories (which
  // may be shared) are named in a warning.
  ASSERT_TRUE(gateway.stop());
  const auto open_directory = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(data_dir, open_directory);
  for (const auto& entry : fs::recursive_directory_iterator(data_dir)) {
    fs::permissions(entry.path(), entry.is_directory() ? open_directory
                                                       : fs::perms::owner_read | fs::perms::owner_write |
                                                             fs::perms::group_read | fs::perms::others_read);
  }
  const auto log_before = gateway.log_size();
  ASSERT_TRUE(gateway.start());
  ASSERT_EQ(ConfigClient(gateway.config_url()).create_function("default", http_function("g")).status, 201);
  for (const auto& entry : fs::recursive_directory_iterator(data_dir)) {
    if (!entry.is_directory()) {
      EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
    }
  }
  EXPECT_NE(gateway.log_since(log_before).find(data_dir.string()), std::string::npos)
      << "no warning names the directory";
  EXPECT_NE(gateway.log_since(log_before).find((data_dir / "spool").string() + " of the dead letters"),
            std::string::npos)
      << "no warning names the spool's directory";
}

TEST(DataValidity, OldSecretsDoNotStayInTheStoreHistory) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  ConfigClient api(gateway.config_url());
  const auto lambda = [](const std::string& secret) {
    return bj::object{{"functionId", "f"},
                      {"type", "awslambda"},
                      {"provider",
                       {{"arn", "arn:aws:lambda:us-east-1:123456789012:function:f"},
                        {"region", "us-east-1"},
                        {"awsAccessKeyId", "AKIAEXAMPLE"},
                        {"awsSecretAccessKey", secret}}}};
  };
  const std::string old_secret = "old-secret-0123456789abcdef";
  const std::string new_secret = "new-secret-0123456789abcdef";
  ASSERT_EQ(api.create_function("default", lambda(old_secret)).status, 201);
  ASSERT_EQ(api.put(ConfigClient::functions("default") + "/f", lambda(new_secret)).status, 200);

  // History a watcher may still need is kept a few seconds (docs/store.md), then forgotten.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (store_bytes(gateway.data_dir()).find(old_secret) != std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  const auto bytes = store_bytes(gateway.data_dir());
  EXPECT_EQ(bytes.find(old_secret), std::string::npos) << "the replaced secret is still on disk";
  EXPECT_NE(bytes.find(new_secret), std::string::npos) << "the current secret is kept";
  EXPECT_TRUE(IsJson(api.get_function("default", "f"), 200));
  ASSERT_TRUE(gateway.restart());
  EXPECT_TRUE(IsJson(api.get_function("default", "f"), 200));
}

}  // namespace
