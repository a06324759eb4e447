// Black-box tests of who may use the gateway (docs/security.md): API keys on the Configuration API
// and the Events API, cross-site writes from web pages, and the networks no function may call into.
// Each test is named after what a user sees.
//
// The real binary on free ports, real functions (UpstreamServer), key files written as an operator
// writes them (the digests of the keys, from -hash-key or sha256sum).

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "common/digest.h"
#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::error_message;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::Headers;
using blackbox::http_function;
using blackbox::http_subscription;
using blackbox::HttpResponse;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::request;
using blackbox::to_json;
using blackbox::UpstreamServer;

const std::string kAdminKey = "admin-0123456789abcdef";
const std::string kTeamKey = "team-a-0123456789abcdef";
const std::string kNewKey = "new-admin-0123456789abcdef";

std::string key_line(const std::string& key, const std::string& spaces) {
  return eg::common::sha256_hex(key) + " " + spaces + "\n";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

Headers bearer(const std::string& key, Headers more = {}) {
  more.emplace_back("Authorization", "Bearer " + key);
  return more;
}

std::string function_body(const std::string& id, const std::string& url = "http://127.0.0.1:9/f") {
  return to_json(http_function(id, url));
}

// A gateway whose Configuration API needs one of the keys in `keys` (a file it may rewrite).
struct KeyedGateway {
  blackbox::TempDir dir{"eg-keys-"};
  std::filesystem::path keys = dir.path() / "config-keys";
  GatewayProcess gateway;

  explicit KeyedGateway(const std::string& key_file, std::vector<std::string> more_args = {})
      : gateway([&] {
          write_file(keys, key_file);
          GatewayOptions options;
          options.extra_args = {"-config-api-keys", keys.string()};
          options.extra_args.insert(options.extra_args.end(), more_args.begin(), more_args.end());
          return options;
        }()) {}

  std::string url(const std::string& path) const { return gateway.config_url() + path; }
};

TEST(ConfigApiKeys, WithoutAKeyEveryRequestButStatusIs401WithABearerChallengeAndChangesNothing) {
  KeyedGateway keyed(key_line(kAdminKey, "*"));
  ASSERT_TRUE(keyed.gateway.start());
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/spaces/default/functions"},
                                                        {"GET", "/v1/spaces/default/functions"},
                                                        {"GET", "/v1/spaces/default/subscriptions"},
                                                        {"DELETE", "/v1/spaces/default/functions/f"},
                                                        {"GET", "/v1/spaces/default/deadletters"},
                                                        {"GET", "/v1/nothing-here"}}) {
    SCOPED_TRACE(method + " " + path);
    const auto r = request(method, keyed.url(path), method == "POST" ? function_body("f") : "");
    EXPECT_TRUE(IsJsonError(r, 401)) << r.describe();
    EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer realm="event-gateway")");
    EXPECT_NE(r.body.find("needs a key: send Authorization: Bearer <key>"), std::string::npos) << r.body;
  }
  EXPECT_TRUE(IsJson(request("GET", keyed.url("/v1/status")), 200));
  // The refused POST registered nothing.
  EXPECT_TRUE(
      IsJsonError(request("GET", keyed.url("/v1/spaces/default/functions/f"), {}, bearer(kAdminKey)), 404));
  EXPECT_TRUE(IsJson(
      request("POST", keyed.url("/v1/spaces/default/functions"), function_body("f"), bearer(kAdminKey)),
      201));
}

TEST(ConfigApiKeys, TheMetricsNameEverySpaceSoOnlyAKeyForEverySpaceReadsThem) {
  KeyedGateway keyed(key_line(kAdminKey, "*") + key_line(kTeamKey, "team-a"));
  ASSERT_TRUE(keyed.gateway.start());
  for (const std::string path : {"/metrics", "/v1/metrics"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(IsJsonError(request("GET", keyed.url(path)), 401));
    const auto team = request("GET", keyed.url(path), {}, bearer(kTeamKey));
    EXPECT_TRUE(IsJsonError(team, 403)) << team.describe();
    EXPECT_EQ(team.body.find("gateway_"), std::string::npos) << team.body;
    const auto admin = request("GET", keyed.url(path), {}, bearer(kAdminKey));
    EXPECT_EQ(admin.status, 200) << admin.describe();
    EXPECT_NE(admin.body.find("# TYPE gateway_build_info gauge"), std::string::npos) << admin.body;
  }
}

TEST(ConfigApiKeys, AnUnknownKeyIs401WithInvalidToken) {
  KeyedGateway keyed(key_line(kAdminKey, "*"));
  ASSERT_TRUE(keyed.gateway.start());
  for (const std::string& authorization :
       {"Bearer " + kTeamKey, "Bearer " + eg::common::sha256_hex(kAdminKey), "Bearer " + kAdminKey + "x"}) {
    const auto r =
        request("GET", keyed.url("/v1/spaces/default/functions"), {}, {{"Authorization", authorization}});
    EXPECT_TRUE(IsJsonError(r, 401)) << r.describe();
    EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer realm="event-gateway", error="invalid_token")");
  }
  const auto basic = request("GET", keyed.url("/v1/spaces/default/functions"), {},
                             {{"Authorization", "Basic YWRtaW46YWRtaW4="}});
  EXPECT_TRUE(IsJsonError(basic, 401));
  EXPECT_EQ(basic.header("WWW-Authenticate"), R"(Bearer realm="event-gateway")");
}

TEST(ConfigApiKeys, AKeyActsOnItsSpacesOnlyAndTheSchemeMayBeLowerCase) {
  KeyedGateway keyed(key_line(kAdminKey, "*") + key_line(kTeamKey, "team-a,team-a-staging"));
  ASSERT_TRUE(keyed.gateway.start());
  const Headers team = {{"Authorization", "bearer " + kTeamKey}};  // as the Node SDK writes it
  EXPECT_TRUE(
      IsJson(request("POST", keyed.url("/v1/spaces/team-a/functions"), function_body("f"), team), 201));
  EXPECT_TRUE(IsJson(request("GET", keyed.url("/v1/spaces/team-a-staging/functions"), {}, team), 200));
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/spaces/team-b/functions"},
                                                        {"GET", "/v1/spaces/team-b/functions"},
                                                        {"GET", "/v1/spaces/team-b/subscriptions"},
                                                        {"GET", "/v1/spaces/team-b/functions/f"}}) {
    SCOPED_TRACE(method + " " + path);
    const auto r = request(method, keyed.url(path), method == "POST" ? function_body("f") : "", team);
    EXPECT_TRUE(IsJsonError(r, 403)) << r.describe();
    EXPECT_NE(r.body.find(R"(the key may not act on space \"team-b\")"), std::string::npos) << r.body;
  }
  // The admin key sees the team's function; the team's refused POST made none in team-b.
  EXPECT_EQ(blackbox::ConfigClient(keyed.gateway.config_url(), kAdminKey).list_functions("team-a").size(),
            1u);
  EXPECT_TRUE(blackbox::ConfigClient(keyed.gateway.config_url(), kAdminKey).list_functions("team-b").empty());
}

// Polls until `key` gets `status` from a list of functions (a reload is asynchronous to the signal).
::testing::AssertionResult wait_for_status(const KeyedGateway& keyed, const std::string& key, long status) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  HttpResponse r;
  while (std::chrono::steady_clock::now() < deadline) {
    r = request("GET", keyed.url("/v1/spaces/default/functions"), {}, bearer(key));
    if (r.status == status) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(20ms);
  }
  return ::testing::AssertionFailure() << "expected " << status << ", got " << r.describe();
}

TEST(ConfigApiKeys, SighupReloadsTheKeysAndAFileThatCannotBeReadKeepsTheKeysInUse) {
  KeyedGateway keyed(key_line(kAdminKey, "*"));
  ASSERT_TRUE(keyed.gateway.start());
  ASSERT_TRUE(wait_for_status(keyed, kAdminKey, 200));
  write_file(keyed.keys, key_line(kNewKey, "*"));
  ASSERT_EQ(::kill(keyed.gateway.pid(), SIGHUP), 0);
  EXPECT_TRUE(wait_for_status(keyed, kNewKey, 200));
  EXPECT_TRUE(wait_for_status(keyed, kAdminKey, 401));

  const auto mark = keyed.gateway.log_size();
  write_file(keyed.keys, key_line(kAdminKey, "*") + "this line is no key\n");
  ASSERT_EQ(::kill(keyed.gateway.pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (keyed.gateway.log_since(mark).find("the keys in use stay") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const auto log = keyed.gateway.log_since(mark);
  EXPECT_NE(log.find("-config-api-keys " + keyed.keys.string() + ": line 2"), std::string::npos) << log;
  EXPECT_TRUE(wait_for_status(keyed, kNewKey, 200));
  EXPECT_TRUE(wait_for_status(keyed, kAdminKey, 401));
  EXPECT_TRUE(keyed.gateway.running());
}

TEST(ConfigApiKeys, AFileThatCannotBeReadIsAStartErrorNamingTheFlagAndTheLine) {
  blackbox::TempDir dir("eg-keys-");
  const auto keys = dir.path() / "keys";
  write_file(keys,
             "# operators\n" + key_line(kAdminKey, "*") + eg::common::sha256_hex(kTeamKey) + " team a\n");
  auto run =
      blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(), "-config-api-keys",
                            keys.string(), "-config-port", "0", "-events-port", "0"});
  EXPECT_EQ(run.exit_code, 2) << run.output();
  EXPECT_NE(run.err.find("-config-api-keys " + keys.string() + ": line 3:"), std::string::npos) << run.err;

  run = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(), "-events-api-keys",
                              (dir.path() / "missing").string(), "-config-port", "0", "-events-port", "0"});
  EXPECT_EQ(run.exit_code, 2) << run.output();
  EXPECT_NE(run.err.find("-events-api-keys " + (dir.path() / "missing").string() + ": cannot be read"),
            std::string::npos)
      << run.err;

  write_file(keys, "# no key yet\n");
  run = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(), "-config-api-keys",
                              keys.string(), "-config-port", "0", "-events-port", "0"});
  EXPECT_EQ(run.exit_code, 2) << run.output();
  EXPECT_NE(run.err.find("holds no key"), std::string::npos) << run.err;
}

TEST(ConfigApiKeys, TheKeyFileMayBeNamedByTheEnvironment) {
  blackbox::TempDir dir("eg-keys-");
  const auto keys = dir.path() / "keys";
  write_file(keys, key_line(kAdminKey, "*"));
  GatewayOptions options;
  options.environment = {"EVENT_GATEWAY_CONFIG_API_KEYS_FILE=" + keys.string()};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  EXPECT_TRUE(IsJsonError(request("GET", gateway.config_url() + "/v1/spaces/default/functions"), 401));
  EXPECT_TRUE(IsJson(
      request("GET", gateway.config_url() + "/v1/spaces/default/functions", {}, bearer(kAdminKey)), 200));
}

// `echo <key> | event-gateway -hash-key`
std::pair<int, std::string> hash_key(const std::string& key) {
  const std::string command =
      "printf '%s\\n' '" + key + "' | '" + blackbox::binary_path() + "' -hash-key 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  return {WEXITSTATUS(status), output};
}

TEST(HashKey, PrintsTheKeyFileLineOfTheKeyOnStdinWhichTheGatewayThenAccepts) {
  const auto [status, line] = hash_key(kAdminKey);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(line, key_line(kAdminKey, "*"));
  EXPECT_EQ(line.find(kAdminKey), std::string::npos);  // no plain key is ever stored
  KeyedGateway keyed(line);
  ASSERT_TRUE(keyed.gateway.start());
  EXPECT_TRUE(wait_for_status(keyed, kAdminKey, 200));

  const auto [short_status, short_output] = hash_key("short");
  EXPECT_EQ(short_status, 2);
  EXPECT_NE(short_output.find("at least 16 characters"), std::string::npos) << short_output;
}

TEST(EventsApiKeys, CustomEventsAndInvokeNeedAKeyOfTheirSpaceWhileHttpEventsStayPublic) {
  UpstreamServer upstream;
  blackbox::TempDir dir("eg-keys-");
  const auto keys = dir.path() / "events-keys";
  write_file(keys, key_line(kTeamKey, "team-a"));
  GatewayOptions options;
  options.extra_args = {"-events-api-keys", keys.string()};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  GatewayClient client(gateway);
  for (const std::string space : {"team-a", "team-b"}) {
    ASSERT_TRUE(client.add_function(space, "f", upstream.url("/" + space)));
    ASSERT_TRUE(client.subscribe(space, blackbox::custom_subscription("user.created", "f", "/")));
    ASSERT_TRUE(client.subscribe(space, bj::object{{"event", "invoke"}, {"functionId", "f"}}));
  }
  ASSERT_TRUE(client.subscribe("team-a", http_subscription("f", "GET", "/public")));
  auto keyed = http_subscription("f", "GET", "/keyed");
  keyed["requireApiKey"] = true;
  ASSERT_TRUE(client.subscribe("team-a", keyed));
  ASSERT_TRUE(client.sync());

  const auto emit = [&](const std::string& space, Headers headers) {
    headers.emplace_back("Event", "user.created");
    headers.emplace_back("Space", space);
    return request("POST", gateway.events_url() + "/", R"({"id":1})", headers);
  };
  const auto invoke = [&](const std::string& space, Headers headers) {
    headers.emplace_back("Event", "invoke");
    headers.emplace_back("Function-ID", "f");
    headers.emplace_back("Space", space);
    return request("POST", gateway.events_url() + "/", R"({"id":2})", headers);
  };
  auto r = emit("team-a", {});
  EXPECT_TRUE(IsJsonError(r, 401)) << r.describe();
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer realm="event-gateway")");
  EXPECT_TRUE(IsJsonError(invoke("team-a", {}), 401));
  EXPECT_TRUE(IsJsonError(emit("team-a", bearer(kAdminKey)), 401));
  r = emit("team-b", bearer(kTeamKey));
  EXPECT_TRUE(IsJsonError(r, 403)) << r.describe();
  EXPECT_TRUE(IsJsonError(invoke("team-b", bearer(kTeamKey)), 403));
  EXPECT_EQ(upstream.count(), 0u);  // nothing refused reached a function

  EXPECT_EQ(emit("team-a", bearer(kTeamKey)).status, 202);
  EXPECT_TRUE(upstream.wait_for_requests("/team-a", 1));
  EXPECT_EQ(invoke("team-a", bearer(kTeamKey)).status, 200);
  EXPECT_EQ(request("GET", gateway.events_url() + "/public").status, 200);
  EXPECT_EQ(upstream.count("/team-b"), 0u);

  // An http subscription may ask for a key; the function never sees it.
  const auto before = upstream.count("/team-a");
  EXPECT_TRUE(IsJsonError(request("GET", gateway.events_url() + "/keyed"), 401));
  EXPECT_EQ(upstream.count("/team-a"), before);
  EXPECT_EQ(request("GET", gateway.events_url() + "/keyed", {}, bearer(kTeamKey)).status, 200);
  ASSERT_TRUE(upstream.wait_for_requests("/team-a", before + 1));
  const auto event = upstream.requests("/team-a").back().json();
  const auto& headers = event.at("data").at("headers").as_object();
  EXPECT_FALSE(headers.contains("Authorization") || headers.contains("authorization")) << event;
}

// With -cross-space-events a custom event reaches the subscribers of every space: a key of one
// space may not send one.
TEST(EventsApiKeys, AcrossSpacesACustomEventNeedsAKeyOfEverySpace) {
  UpstreamServer upstream;
  blackbox::TempDir dir("eg-keys-");
  const auto keys = dir.path() / "events-keys";
  write_file(keys, key_line(kTeamKey, "team-a") + key_line(kAdminKey, "*"));
  GatewayOptions options;
  options.extra_args = {"-events-api-keys", keys.string(), "-cross-space-events"};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  GatewayClient client(gateway);
  ASSERT_TRUE(client.add_function("team-b", "f", upstream.url("/team-b")));
  ASSERT_TRUE(client.subscribe("team-b", blackbox::custom_subscription("user.created", "f", "/")));
  ASSERT_TRUE(client.sync());
  const auto emit = [&](const std::string& key) {
    return request("POST", gateway.events_url() + "/", R"({"id":1})",
                   bearer(key, {{"Event", "user.created"}, {"Space", "team-a"}}));
  };
  const auto refused = emit(kTeamKey);
  EXPECT_TRUE(IsJsonError(refused, 403)) << refused.describe();
  EXPECT_NE(refused.body.find("it needs a key of every space"), std::string::npos) << refused.body;
  EXPECT_EQ(emit(kAdminKey).status, 202);
  EXPECT_TRUE(upstream.wait_for_requests("/team-b", 1));
  EXPECT_EQ(upstream.count("/team-b"), 1u);
}

TEST(EventsApiKeys, AnHttpSubscriptionThatAsksForAKeyIsNeverServedByAGatewayWithoutKeys) {
  UpstreamServer upstream;
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  GatewayClient client(gateway);
  ASSERT_TRUE(client.add_function("default", "f", upstream.url("/f")));
  auto keyed = http_subscription("f", "GET", "/keyed");
  keyed["requireApiKey"] = true;
  std::string id;
  ASSERT_TRUE(client.subscribe("default", keyed, &id));
  EXPECT_EQ(client.config().get_subscription("default", id).json().at("requireApiKey"), true);
  ASSERT_TRUE(client.sync());
  const auto r = request("GET", gateway.events_url() + "/keyed", {}, bearer(kTeamKey));
  EXPECT_TRUE(IsJsonError(r, 401)) << r.describe();
  EXPECT_EQ(r.header("WWW-Authenticate"), R"(Bearer realm="event-gateway")") << "every 401 carries a challenge";
  EXPECT_EQ(upstream.count(), 0u);
  auto custom = blackbox::custom_subscription("e", "f", "/");
  custom["requireApiKey"] = true;
  EXPECT_TRUE(IsJsonError(client.config().create_subscription("default", custom), 400));
}

TEST(CrossSiteWrites, TextPlainAndFormPostsAreRefusedWith415AndChangeNothing) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  const auto functions = gateway.config_url() + "/v1/spaces/default/functions";
  for (const std::string type :
       {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"}) {
    SCOPED_TRACE(type);
    const auto r = request("POST", functions, function_body("f"), {{"Content-Type", type}});
    EXPECT_TRUE(IsJsonError(r, 415)) << r.describe();
    EXPECT_NE(error_message(r).find("takes JSON: send Content-Type: application/json"), std::string::npos);
  }
  blackbox::RequestOptions no_type;
  no_type.default_json_content_type = false;
  EXPECT_TRUE(IsJsonError(request("POST", functions, function_body("f"), {}, no_type), 415));
  EXPECT_TRUE(IsJsonError(request("GET", functions + "/f"), 404));  // nothing was registered
  EXPECT_TRUE(IsJson(
      request("POST", functions, function_body("f"), {{"Content-Type", "application/json; charset=utf-8"}}),
      201));
}

TEST(CrossSiteWrites, AWriteFromAForeignOriginIsRefusedAndAnAllowedConsoleMayWriteAndRead) {
  GatewayOptions options;
  options.extra_args = {"-config-allowed-origins", "https://console.example.com"};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  const auto functions = gateway.config_url() + "/v1/spaces/default/functions";
  // A foreign page, and a rebinding page whose origin matches the Host it made the browser send.
  auto r = request("POST", functions, function_body("f"), {{"Origin", "https://evil.example"}});
  EXPECT_TRUE(IsJsonError(r, 403)) << r.describe();
  EXPECT_NE(error_message(r).find("-config-allowed-origins"), std::string::npos);
  r = request("POST", functions, function_body("f"),
              {{"Origin", "http://evil.example:" + std::to_string(gateway.config_port())},
               {"Host", "evil.example:" + std::to_string(gateway.config_port())}});
  EXPECT_TRUE(IsJsonError(r, 403)) << r.describe();
  EXPECT_TRUE(IsJsonError(request("GET", functions + "/f"), 404));

  // The gateway's own page at its address may write.
  const auto own = "http://127.0.0.1:" + std::to_string(gateway.config_port());
  EXPECT_TRUE(IsJson(request("POST", functions, function_body("own"), {{"Origin", own}}), 201));

  // The allowed console: its preflight is answered, and so is its write, readable by it.
  const auto preflight = request("OPTIONS", functions, {},
                                 {{"Origin", "https://console.example.com"},
                                  {"Access-Control-Request-Method", "POST"},
                                  {"Access-Control-Request-Headers", "authorization,content-type"}});
  EXPECT_EQ(preflight.status, 204) << preflight.describe();
  EXPECT_EQ(preflight.header("Access-Control-Allow-Origin"), "https://console.example.com");
  r = request("POST", functions, function_body("console"), {{"Origin", "https://console.example.com"}});
  EXPECT_TRUE(IsJson(r, 201)) << r.describe();
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://console.example.com");
  EXPECT_EQ(request("OPTIONS", functions, {},
                    {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}})
                .header("Access-Control-Allow-Origin"),
            "");
}

TEST(CrossSiteWrites, AMalformedAllowedOriginIsAStartError) {
  blackbox::TempDir dir;
  const auto run = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(),
                                         "-config-allowed-origins", "console.example.com", "-config-port",
                                         "0", "-events-port", "0"});
  EXPECT_EQ(run.exit_code, 2) << run.output();
  EXPECT_NE(run.err.find("-config-allowed-origins: \"console.example.com\" is not an origin"),
            std::string::npos)
      << run.err;
}

TEST(FunctionEgress, AFunctionOnTheCloudMetadataAddressIsRefusedAtRegistrationByDefault) {
  GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());
  const auto functions = gateway.config_url() + "/v1/spaces/default/functions";
  for (const std::string url :
       {"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/", "http://[::ffff:169.254.169.254]/"}) {
    SCOPED_TRACE(url);
    const auto r = request("POST", functions, function_body("metadata", url));
    EXPECT_TRUE(IsJsonError(r, 400)) << r.describe();
    EXPECT_NE(error_message(r).find("which functions may not be called on (-function-deny-networks)"),
              std::string::npos)
        << r.body;
  }
  const auto aws = bj::object{
      {"functionId", "lambda"},
      {"type", "awslambda"},
      {"provider",
       bj::object{{"arn", "f"}, {"region", "us-east-1"}, {"endpoint", "http://169.254.169.254/"}}}};
  EXPECT_TRUE(IsJsonError(request("POST", functions, to_json(aws)), 400));
  EXPECT_TRUE(blackbox::ConfigClient(gateway.config_url()).list_functions("default").empty());
  // An update may not move a function there either.
  ASSERT_TRUE(IsJson(request("POST", functions, function_body("f")), 201));
  EXPECT_TRUE(
      IsJsonError(request("PUT", functions + "/f", function_body("f", "http://169.254.169.254/")), 400));
}

TEST(FunctionEgress, ANameThatResolvesIntoADeniedNetworkIsRefusedAtRegistration) {
  GatewayOptions options;
  options.extra_args = {"-function-deny-networks", "127.0.0.0/8,::1"};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  const auto r = request("POST", gateway.config_url() + "/v1/spaces/default/functions",
                         function_body("f", "http://localhost:9/f"));
  EXPECT_TRUE(IsJsonError(r, 400)) << r.describe();
  EXPECT_NE(error_message(r).find("localhost is on network"), std::string::npos) << r.body;
}

// A function registered before the policy denied its network (or whose name resolves elsewhere by
// the time it is called) is refused when called: nothing reaches it.
TEST(FunctionEgress, ACallIntoADeniedNetworkIsRefusedAtCallTimeAndReachesNothing) {
  UpstreamServer upstream;
  GatewayOptions options;
  options.extra_args = {"-function-deny-networks", ""};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  GatewayClient client(gateway);
  ASSERT_TRUE(
      client.add_function("default", "f", "http://localhost:" + std::to_string(upstream.port()) + "/f"));
  ASSERT_TRUE(client.subscribe("default", http_subscription("f", "GET", "/denied")));
  ASSERT_TRUE(client.sync());
  ASSERT_EQ(request("GET", gateway.events_url() + "/denied").status, 200);
  ASSERT_TRUE(upstream.wait_for_requests("/f", 1));

  ASSERT_TRUE(gateway.stop());
  GatewayOptions denied_options;
  denied_options.pass_data_dir = false;
  denied_options.extra_args = {"-function-deny-networks", "127.0.0.0/8,::1/128", "-embed-data-dir",
                               gateway.data_dir().string()};
  GatewayProcess denied(denied_options);
  ASSERT_TRUE(denied.start());
  const auto mark = denied.log_size();
  const auto r = request("GET", denied.events_url() + "/denied");
  EXPECT_TRUE(IsJsonError(r, 502)) << r.describe();
  EXPECT_EQ(upstream.count("/f"), 1u);
  EXPECT_NE(denied.log_since(mark).find("which functions may not be called on"), std::string::npos)
      << denied.log_since(mark);
}

}  // namespace
