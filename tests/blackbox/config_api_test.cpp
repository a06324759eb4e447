// Black-box tests of the Configuration API: the real event-gateway binary, raw HTTP.
//
// Most tests share one gateway (started once for the suite) and isolate themselves by using a space named
// after the test and, for http subscriptions (unique across all spaces), paths under "/<TestName>/".
// Tests that need their own process (restart, flags, limits, log format) start a fresh one.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <latch>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/shared_gateway.h"

namespace {

namespace bj = boost::json;
using blackbox::ConfigClient;
using blackbox::custom_subscription;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::http_function;
using blackbox::http_subscription;
using blackbox::HttpResponse;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::to_json;

// ---- helpers ----------------------------------------------------------------------------------------------

std::string error_messages(const HttpResponse& r) {
  std::string all;
  auto v = r.try_json();
  if (!v || !v->is_object()) return all;
  if (const auto* errors = v->as_object().if_contains("errors"); errors && errors->is_array())
    for (const auto& e : errors->as_array())
      if (const auto* m = e.is_object() ? e.as_object().if_contains("message") : nullptr; m && m->is_string())
        all += std::string(m->as_string()) + "\n";
  return all;
}

bj::object lambda_function(const std::string& id,
                           const std::string& arn = "arn:aws:lambda:us-east-1:1:function:x") {
  return bj::object{{"functionId", id},
                    {"type", "awslambda"},
                    {"provider", bj::object{{"arn", arn}, {"region", "us-east-1"}}}};
}

// Go's url.PathEscape for the characters our tests use.
std::string path_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '/')
      out += "%2F";
    else if (c == '*')
      out += "%2A";
    else
      out += c;
  }
  return out;
}

bj::value cors_defaults() {
  return bj::object{{"origins", bj::array{"*"}},
                    {"methods", bj::array{"HEAD", "GET", "POST"}},
                    {"headers", bj::array{"Origin", "Accept", "Content-Type"}},
                    {"allowCredentials", false}};
}

// ---- fixture: one gateway shared by the suite -------------------------------------------------------------

class ConfigApiTest : public blackbox::SharedGatewayTest<ConfigApiTest> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedGatewayTest::SetUp());
    api_ = std::make_unique<ConfigClient>(gateway().config_url());
  }

  const ConfigClient& api() const { return *api_; }
  int config_port() const { return gateway().config_port(); }

  // Registers an http function, asserting 201.
  void make_function(const std::string& space, const std::string& id) {
    auto r = api().create_function(space, http_function(id));
    ASSERT_TRUE(IsJson(r, 201)) << "registering function " << id << " in " << space;
  }

  std::unique_ptr<ConfigClient> api_;
};

// ---- status / routing -------------------------------------------------------------------------------------

TEST_F(ConfigApiTest, StatusAnswers200) {
  auto r = api().get("/v1/status");
  EXPECT_EQ(r.status, 200) << r.describe();
}

TEST_F(ConfigApiTest, UnknownRoutesAre404JsonErrors) {
  for (const std::string& path :
       std::vector<std::string>{"/", "/v1", "/v1/nope", "/v2/status", "/v1/spaces/" + space_ + "/things",
                                "/v1/spaces/" + space_ + "/functions/a/b", "/v1/spaces/" + space_,
                                "/v1/spaces/" + space_ + "/subscriptions/a/b"}) {
    SCOPED_TRACE("GET " + path);
    EXPECT_TRUE(IsJsonError(api().get(path), 404));
  }
}

TEST_F(ConfigApiTest, WrongMethodOnKnownRouteIs405JsonError) {
  const std::string fns = ConfigClient::functions(space_);
  const std::string subs = ConfigClient::subscriptions(space_);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"PATCH", fns},         {"DELETE", fns},          {"PUT", fns},           {"POST", fns + "/x"},
      {"PATCH", fns + "/x"},  {"PATCH", subs},          {"DELETE", subs},       {"POST", subs + "/x"},
      {"PATCH", subs + "/x"}, {"DELETE", "/v1/status"}, {"POST", "/v1/status"},
  };
  for (const auto& [method, path] : cases) {
    SCOPED_TRACE(method + " " + path);
    EXPECT_TRUE(IsJsonError(api().send(method, path, method == "DELETE" ? "" : "{}"), 405));
  }
  // Nothing was created by any of these.
  EXPECT_TRUE(api().list_functions(space_).empty());
  EXPECT_TRUE(api().list_subscriptions(space_).empty());
}

TEST_F(ConfigApiTest, InvalidSpaceNameIsRejected) {
  const std::string too_long(129, 's');
  for (const std::string& space :
       {too_long, std::string("bad%20space"), std::string("bad%2Fspace"), std::string("b%C3%A4d")}) {
    SCOPED_TRACE("space " + space);
    auto r = api().create_function(space, http_function("hello"));
    EXPECT_TRUE(r.status == 400 || r.status == 404) << r.describe();
    EXPECT_TRUE(IsJsonError(r, r.status));
    auto l = api().get(ConfigClient::functions(space));
    EXPECT_TRUE(l.status == 400 || l.status == 404) << l.describe();
  }
  // The longest valid name works.
  const std::string longest(128, 's');
  EXPECT_TRUE(IsJson(api().create_function(longest, http_function("hello")), 201));
  EXPECT_TRUE(IsJson(api().get_function(longest, "hello"), 200));
  EXPECT_EQ(api().del(ConfigClient::functions(longest) + "/hello").status, 204);
}

// ---- functions --------------------------------------------------------------------------------------------

TEST_F(ConfigApiTest, RegisterFunctionReturns201WithTheFunction) {
  auto r = api().create_function(space_, http_function("hello", "http://example.com/hello"));
  ASSERT_TRUE(IsJson(r, 201));
  const bj::value expected = bj::object{{"space", space_},
                                        {"functionId", "hello"},
                                        {"type", "http"},
                                        {"provider", bj::object{{"url", "http://example.com/hello"}}}};
  EXPECT_EQ(r.json(), expected);

  auto g = api().get_function(space_, "hello");
  ASSERT_TRUE(IsJson(g, 200));
  EXPECT_EQ(g.json(), expected);
}

TEST_F(ConfigApiTest, RegistersEveryProviderType) {
  const std::vector<bj::object> fns = {
      bj::object{{"functionId", "lambda"},
                 {"type", "awslambda"},
                 {"provider", bj::object{{"arn", "arn:aws:lambda:us-east-1:377024778620:function:hello"},
                                         {"region", "us-east-1"},
                                         {"awsAccessKeyId", "AKIDLAMBDA"},
                                         {"awsSecretAccessKey", "SECRET"}}}},
      bj::object{{"functionId", "kinesis"},
                 {"type", "awskinesis"},
                 {"provider", bj::object{{"streamName", "events"}, {"region", "eu-west-1"}}}},
      bj::object{{"functionId", "firehose"},
                 {"type", "awsfirehose"},
                 {"provider", bj::object{{"deliveryStreamName", "archive"},
                                         {"region", "us-west-2"},
                                         {"awsAccessKeyId", "AKIDFIREHOSE"},
                                         {"awsSecretAccessKey", "SECRET"}}}},
      http_function("web", "https://example.com:8443/fn?x=1"),
  };
  for (const auto& fn : fns) {
    SCOPED_TRACE(to_json(fn));
    auto r = api().create_function(space_, fn);
    ASSERT_TRUE(IsJson(r, 201));
    bj::object expected = fn;
    expected["space"] = space_;
    expected["provider"].as_object().erase("awsSecretAccessKey");  // never returned
    EXPECT_EQ(r.json(), bj::value(expected));
    auto g = api().get_function(space_, std::string(fn.at("functionId").as_string()));
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(g.json(), bj::value(expected));
  }
  EXPECT_EQ(api().list_functions(space_).size(), fns.size());
}

TEST_F(ConfigApiTest, SecretsAreNeverReturned) {
  const std::vector<std::pair<std::string, bj::object>> providers = {
      {"awslambda", bj::object{{"arn", "arn:aws:lambda:us-east-1:1:function:f"}, {"region", "us-east-1"}}},
      {"awskinesis", bj::object{{"streamName", "s"}, {"region", "us-east-1"}}},
      {"awsfirehose", bj::object{{"deliveryStreamName", "d"}, {"region", "us-east-1"}}},
  };
  auto check = [](const HttpResponse& r, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(r.body.find("TOPSECRET"), std::string::npos) << r.describe();
    EXPECT_EQ(r.body.find("SESSIONTOKEN"), std::string::npos) << r.describe();
    EXPECT_EQ(r.body.find("awsSecretAccessKey"), std::string::npos) << r.describe();
    EXPECT_EQ(r.body.find("awsSessionToken"), std::string::npos) << r.describe();
    EXPECT_NE(r.body.find("\"awsAccessKeyId\""), std::string::npos)
        << "the key id is returned: " << r.describe();
  };
  for (const auto& [type, base] : providers) {
    SCOPED_TRACE(type);
    const std::string id = "secret-" + type;
    bj::object provider = base;
    provider["awsAccessKeyId"] = "AKIDEXAMPLE";
    provider["awsSecretAccessKey"] = "TOPSECRET-1";
    provider["awsSessionToken"] = "SESSIONTOKEN-1";
    auto created =
        api().create_function(space_, bj::object{{"functionId", id}, {"type", type}, {"provider", provider}});
    ASSERT_TRUE(IsJson(created, 201));
    check(created, "create");
    auto obj = created.json();
    ASSERT_TRUE(obj.is_object());
    const auto* p = obj.as_object().if_contains("provider");
    ASSERT_TRUE(p && p->is_object()) << created.describe();
    EXPECT_EQ(p->as_object().at("awsAccessKeyId"), bj::value("AKIDEXAMPLE"));

    auto got = api().get_function(space_, id);
    ASSERT_TRUE(IsJson(got, 200));
    check(got, "get");
    EXPECT_EQ(got.json(), obj);

    provider["awsSecretAccessKey"] = "TOPSECRET-2";
    provider["awsSessionToken"] = "SESSIONTOKEN-2";
    auto updated = api().put(ConfigClient::functions(space_) + "/" + id,
                             bj::object{{"type", type}, {"provider", provider}});
    ASSERT_TRUE(IsJson(updated, 200));
    check(updated, "update");
  }
  auto listed = api().get(ConfigClient::functions(space_));
  ASSERT_TRUE(IsJson(listed, 200));
  check(listed, "list");
  EXPECT_EQ(api().list_functions(space_).size(), providers.size());
}

TEST_F(ConfigApiTest, DuplicateFunctionIs409AndKeepsTheOriginal) {
  auto first = api().create_function(space_, http_function("hello", "http://example.com/one"));
  ASSERT_TRUE(IsJson(first, 201));
  auto second = api().create_function(space_, http_function("hello", "http://example.com/two"));
  EXPECT_TRUE(IsJsonError(second, 409));
  auto g = api().get_function(space_, "hello");
  ASSERT_TRUE(IsJson(g, 200));
  EXPECT_EQ(g.json(), first.json());
  EXPECT_EQ(api().list_functions(space_).size(), 1u);
}

TEST_F(ConfigApiTest, SpacesIsolateFunctions) {
  const std::string a = space_ + "-a", b = space_ + "-b", c = space_ + "-c";
  auto ra = api().create_function(a, http_function("hello", "http://example.com/a"));
  auto rb = api().create_function(b, http_function("hello", "http://example.com/b"));
  ASSERT_TRUE(IsJson(ra, 201));
  ASSERT_TRUE(IsJson(rb, 201));
  EXPECT_EQ(ra.json().at("space"), bj::value(a));
  EXPECT_EQ(rb.json().at("space"), bj::value(b));

  auto ga = api().get_function(a, "hello");
  auto gb = api().get_function(b, "hello");
  ASSERT_TRUE(IsJson(ga, 200));
  ASSERT_TRUE(IsJson(gb, 200));
  EXPECT_EQ(ga.json().at("provider").at("url"), bj::value("http://example.com/a"));
  EXPECT_EQ(gb.json().at("provider").at("url"), bj::value("http://example.com/b"));
  EXPECT_TRUE(IsJsonError(api().get_function(c, "hello"), 404));
  EXPECT_TRUE(api().list_functions(c).empty());

  auto la = api().list_functions(a);
  ASSERT_EQ(la.size(), 1u);
  EXPECT_EQ(la[0], ga.json());

  // Deleting in one space leaves the other alone.
  EXPECT_EQ(api().del(ConfigClient::functions(a) + "/hello").status, 204);
  EXPECT_TRUE(IsJson(api().get_function(b, "hello"), 200));
}

TEST_F(ConfigApiTest, InvalidFunctionsAre400AndNothingIsStored) {
  const std::string long_id(129, 'f');
  auto with = [](bj::object o, const std::string& key, bj::value v) {
    o[key] = std::move(v);
    return o;
  };
  auto without = [](bj::object o, const std::string& key) {
    o.erase(key);
    return o;
  };
  auto provider_with = [](bj::object fn, const std::string& key, bj::value v) {
    fn["provider"].as_object()[key] = std::move(v);
    return fn;
  };
  auto provider_without = [](bj::object fn, const std::string& key) {
    fn["provider"].as_object().erase(key);
    return fn;
  };
  const bj::object http = http_function("fn");
  const bj::object lambda = lambda_function("fn");
  const bj::object kinesis{{"functionId", "fn"},
                           {"type", "awskinesis"},
                           {"provider", bj::object{{"streamName", "s"}, {"region", "us-east-1"}}}};
  const bj::object firehose{{"functionId", "fn"},
                            {"type", "awsfirehose"},
                            {"provider", bj::object{{"deliveryStreamName", "d"}, {"region", "us-east-1"}}}};

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty body", ""},
      {"malformed JSON", R"({"functionId":"fn","type":"http",)"},
      {"not JSON", "functionId=fn"},
      {"trailing garbage", to_json(http) + " x"},
      {"array body", "[" + to_json(http) + "]"},
      {"string body", R"("fn")"},
      {"null body", "null"},
      {"missing functionId", to_json(without(http, "functionId"))},
      {"empty functionId", to_json(with(http, "functionId", ""))},
      {"numeric functionId", to_json(with(http, "functionId", 42))},
      {"null functionId", to_json(with(http, "functionId", nullptr))},
      {"functionId with a space", to_json(with(http, "functionId", "my fn"))},
      {"functionId with a slash", to_json(with(http, "functionId", "a/b"))},
      {"functionId with a comma", to_json(with(http, "functionId", "a,b"))},
      {"functionId of 129 chars", to_json(with(http, "functionId", bj::string(long_id)))},
      {"missing type", to_json(without(http, "type"))},
      {"empty type", to_json(with(http, "type", ""))},
      {"unknown type", to_json(with(http, "type", "gcloud"))},
      {"numeric type", to_json(with(http, "type", 1))},
      {"missing provider", to_json(without(http, "provider"))},
      {"null provider", to_json(with(http, "provider", nullptr))},
      {"string provider", to_json(with(http, "provider", "http://example.com"))},
      {"array provider", to_json(with(http, "provider", bj::array{}))},
      {"http without url", to_json(provider_without(http, "url"))},
      {"http numeric url", to_json(provider_with(http, "url", 80))},
      {"http empty url", to_json(provider_with(http, "url", ""))},
      {"http relative url", to_json(provider_with(http, "url", "/hello"))},
      {"http url without scheme", to_json(provider_with(http, "url", "example.com/hello"))},
      {"http ftp url", to_json(provider_with(http, "url", "ftp://example.com/hello"))},
      {"http url without host", to_json(provider_with(http, "url", "http://"))},
      {"awslambda without arn", to_json(provider_without(lambda, "arn"))},
      {"awslambda region not a region name", to_json(provider_with(lambda, "region", "US East"))},
      {"awslambda key id without secret", to_json(provider_with(lambda, "awsAccessKeyId", "AKID"))},
      {"awslambda relative endpoint", to_json(provider_with(lambda, "endpoint", "localhost:4566"))},
      {"awslambda numeric arn", to_json(provider_with(lambda, "arn", 1))},
      {"awslambda numeric region", to_json(provider_with(lambda, "region", 1))},
      {"awslambda with http provider",
       to_json(with(lambda, "provider", bj::object{{"url", "http://e.com"}}))},
      {"awskinesis without streamName", to_json(provider_without(kinesis, "streamName"))},
      {"awsfirehose without deliveryStreamName", to_json(provider_without(firehose, "deliveryStreamName"))},
      {"numeric awsAccessKeyId", to_json(provider_with(lambda, "awsAccessKeyId", 1))},
      {"numeric awsSecretAccessKey", to_json(provider_with(kinesis, "awsSecretAccessKey", 1))},
      {"boolean awsSessionToken", to_json(provider_with(firehose, "awsSessionToken", true))},
      {"space differs from URL", to_json(with(http, "space", "other"))},
      {"numeric space", to_json(with(http, "space", 7))},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name + ": " + body.substr(0, 200));
    EXPECT_TRUE(IsJsonError(api().send("POST", ConfigClient::functions(space_), body), 400));
  }
  EXPECT_TRUE(api().list_functions(space_).empty());
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "fn"), 404));
}

TEST_F(ConfigApiTest, UnknownTypeErrorListsTheKnownTypes) {
  auto f = http_function("fn");
  f["type"] = "gcloud";
  auto r = api().create_function(space_, f);
  ASSERT_TRUE(IsJsonError(r, 400));
  const std::string msg = error_messages(r);
  for (const char* type : {"http", "awslambda", "awskinesis", "awsfirehose"})
    EXPECT_NE(msg.find(type), std::string::npos) << "message should name '" << type << "': " << msg;
}

TEST_F(ConfigApiTest, AcceptsBoundaryFunctionIdsAndMatchingSpaceField) {
  const std::string longest(128, 'f');
  for (const std::string& id : {longest, std::string("a"), std::string("Send.Email_v2-final")}) {
    SCOPED_TRACE(id);
    auto r = api().create_function(space_, http_function(id));
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json().at("functionId"), bj::value(id));
    EXPECT_TRUE(IsJson(api().get_function(space_, id), 200));
  }
  auto f = http_function("with-space");
  f["space"] = space_;
  EXPECT_TRUE(IsJson(api().create_function(space_, f), 201));
}

TEST_F(ConfigApiTest, UpdateFunctionReturns200AndPersists) {
  ASSERT_TRUE(IsJson(api().create_function(space_, http_function("fn", "http://example.com/old")), 201));
  const bj::object provider{{"arn", "arn:aws:lambda:eu-west-1:1:function:new"}, {"region", "eu-west-1"}};
  auto r = api().put(ConfigClient::functions(space_) + "/fn",
                     bj::object{{"type", "awslambda"}, {"provider", provider}});
  ASSERT_TRUE(IsJson(r, 200));
  const bj::value expected =
      bj::object{{"space", space_}, {"functionId", "fn"}, {"type", "awslambda"}, {"provider", provider}};
  EXPECT_EQ(r.json(), expected);
  auto g = api().get_function(space_, "fn");
  ASSERT_TRUE(IsJson(g, 200));
  EXPECT_EQ(g.json(), expected);
  auto l = api().list_functions(space_);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], expected);

  // functionId (and space) in the body are fine when they match the URL.
  auto r2 = api().put(ConfigClient::functions(space_) + "/fn",
                      bj::object{{"functionId", "fn"},
                                 {"space", space_},
                                 {"type", "http"},
                                 {"provider", bj::object{{"url", "https://example.com/new"}}}});
  ASSERT_TRUE(IsJson(r2, 200));
  EXPECT_EQ(r2.json().at("provider").at("url"), bj::value("https://example.com/new"));
  EXPECT_EQ(api().get_function(space_, "fn").json().at("type"), bj::value("http"));
}

TEST_F(ConfigApiTest, UpdateOfAbsentFunctionIs404) {
  auto r = api().put(ConfigClient::functions(space_) + "/ghost",
                     bj::object{{"type", "http"}, {"provider", bj::object{{"url", "http://example.com"}}}});
  EXPECT_TRUE(IsJsonError(r, 404));
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "ghost"), 404));
  EXPECT_TRUE(api().list_functions(space_).empty());
}

TEST_F(ConfigApiTest, InvalidUpdateIs400AndChangesNothing) {
  auto created = api().create_function(space_, http_function("fn", "http://example.com/keep"));
  ASSERT_TRUE(IsJson(created, 201));
  const bj::value original = created.json();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"malformed JSON", R"({"type":"http","provider":)"},
      {"array body", R"([{"type":"http","provider":{"url":"http://example.com/x"}}])"},
      {"missing type", R"({"provider":{"url":"http://example.com/x"}})"},
      {"unknown type", R"({"type":"nope","provider":{"url":"http://example.com/x"}})"},
      {"missing provider", R"({"type":"http"})"},
      {"provider not an object", R"({"type":"http","provider":"http://example.com/x"})"},
      {"missing url", R"({"type":"http","provider":{}})"},
      {"relative url", R"({"type":"http","provider":{"url":"x"}})"},
      {"awslambda with a malformed region", R"({"type":"awslambda","provider":{"arn":"arn:x","region":"a/b"}})"},
      {"numeric secret",
       R"({"type":"awslambda","provider":{"arn":"a","region":"r","awsSecretAccessKey":5}})"},
      {"functionId differs from URL",
       R"({"functionId":"other","type":"http","provider":{"url":"http://e.com/x"}})"},
      {"space differs from URL", R"({"space":"other","type":"http","provider":{"url":"http://e.com/x"}})"},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name + ": " + body);
    EXPECT_TRUE(IsJsonError(api().send("PUT", ConfigClient::functions(space_) + "/fn", body), 400));
    auto g = api().get_function(space_, "fn");
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(g.json(), original);
  }
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "other"), 404));
}

TEST_F(ConfigApiTest, ListFunctionsIsSortedByFunctionId) {
  for (const char* id : {"charlie", "alpha", "delta", "bravo", "alpha.2"})
    ASSERT_TRUE(IsJson(api().create_function(space_, http_function(id)), 201));
  auto r = api().get(ConfigClient::functions(space_));
  ASSERT_TRUE(IsJson(r, 200));
  auto list = api().list_functions(space_);
  std::vector<std::string> ids;
  for (const auto& f : list) {
    ASSERT_TRUE(f.is_object());
    EXPECT_EQ(f.at("space"), bj::value(space_));
    ids.emplace_back(f.at("functionId").as_string());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"alpha", "alpha.2", "bravo", "charlie", "delta"}));
}

TEST_F(ConfigApiTest, EmptyListsAreEmptyArrays) {
  auto f = api().get(ConfigClient::functions(space_));
  ASSERT_TRUE(IsJson(f, 200));
  EXPECT_EQ(f.json(), bj::value(bj::object{{"functions", bj::array{}}}));
  auto s = api().get(ConfigClient::subscriptions(space_));
  ASSERT_TRUE(IsJson(s, 200));
  EXPECT_EQ(s.json(), bj::value(bj::object{{"subscriptions", bj::array{}}}));
}

TEST_F(ConfigApiTest, GetAbsentFunctionIs404) {
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "ghost"), 404));
}

TEST_F(ConfigApiTest, DeleteFunctionIs204ThenGone) {
  ASSERT_TRUE(IsJson(api().create_function(space_, http_function("fn")), 201));
  ASSERT_TRUE(IsJson(api().create_function(space_, http_function("other")), 201));
  auto d = api().del(ConfigClient::functions(space_) + "/fn");
  EXPECT_EQ(d.status, 204) << d.describe();
  EXPECT_TRUE(d.body.empty()) << d.describe();
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "fn"), 404));
  auto l = api().list_functions(space_);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("functionId"), bj::value("other"));
  EXPECT_TRUE(IsJsonError(api().del(ConfigClient::functions(space_) + "/fn"), 404));
  // It can be registered again.
  EXPECT_TRUE(IsJson(api().create_function(space_, http_function("fn")), 201));
}

TEST_F(ConfigApiTest, DeleteAbsentFunctionIs404) {
  EXPECT_TRUE(IsJsonError(api().del(ConfigClient::functions(space_) + "/ghost"), 404));
}

TEST_F(ConfigApiTest, DeleteFunctionInUseIs400AndItStays) {
  make_function(space_, "custom-fn");
  make_function(space_, "http-fn");
  auto s1 = api().create_subscription(space_, custom_subscription("user.created", "custom-fn", "/x"));
  ASSERT_TRUE(IsJson(s1, 201));
  auto s2 = api().create_subscription(space_, http_subscription("http-fn", "GET", prefix_ + "/users"));
  ASSERT_TRUE(IsJson(s2, 201));

  for (const auto& [fn, sub] :
       {std::pair{std::string("custom-fn"), s1}, std::pair{std::string("http-fn"), s2}}) {
    SCOPED_TRACE(fn);
    EXPECT_TRUE(IsJsonError(api().del(ConfigClient::functions(space_) + "/" + fn), 400));
    EXPECT_TRUE(IsJson(api().get_function(space_, fn), 200));
    const std::string id(sub.json().at("subscriptionId").as_string());
    EXPECT_EQ(api().del(ConfigClient::subscriptions(space_) + "/" + id).status, 204);
    EXPECT_EQ(api().del(ConfigClient::functions(space_) + "/" + fn).status, 204);
  }
  EXPECT_TRUE(api().list_functions(space_).empty());
}

TEST_F(ConfigApiTest, FunctionInUseInAnotherSpaceDoesNotBlockDelete) {
  const std::string a = space_ + "-a", b = space_ + "-b";
  make_function(a, "fn");
  make_function(b, "fn");
  ASSERT_TRUE(IsJson(api().create_subscription(a, custom_subscription("e", "fn")), 201));
  EXPECT_EQ(api().del(ConfigClient::functions(b) + "/fn").status, 204);
  EXPECT_TRUE(IsJsonError(api().del(ConfigClient::functions(a) + "/fn"), 400));
}

// ---- subscriptions ----------------------------------------------------------------------------------------

TEST_F(ConfigApiTest, CreateCustomSubscriptionAsInTheReadme) {
  make_function(space_, "sendEmail");
  auto r = api().create_subscription(space_, custom_subscription("user.created", "sendEmail", "/myteam"));
  ASSERT_TRUE(IsJson(r, 201));
  const bj::value expected = bj::object{{"space", space_},
                                        {"subscriptionId", "user.created,sendEmail,%2Fmyteam"},
                                        {"event", "user.created"},
                                        {"functionId", "sendEmail"},
                                        {"path", "/myteam"}};
  EXPECT_EQ(r.json(), expected);
  auto g = api().get_subscription(space_, "user.created,sendEmail,%2Fmyteam");
  ASSERT_TRUE(IsJson(g, 200));
  EXPECT_EQ(g.json(), expected);
  auto l = api().list_subscriptions(space_);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], expected);
}

TEST_F(ConfigApiTest, PathDefaultsToRootAndTrailingSlashIsStripped) {
  make_function(space_, "fn");
  struct Case {
    bj::object body;
    std::string id, path;
  };
  const std::vector<Case> cases = {
      {custom_subscription("no.path", "fn"), "no.path,fn,%2F", "/"},
      {custom_subscription("root.path", "fn", "/"), "root.path,fn,%2F", "/"},
      {custom_subscription("trailing", "fn", "/users/"), "trailing,fn,%2Fusers", "/users"},
      {custom_subscription("nested", "fn", "/a/b/c/"), "nested,fn,%2Fa%2Fb%2Fc", "/a/b/c"},
      {http_subscription("fn", "GET", prefix_ + "/users/"), "http,GET," + path_escape(prefix_ + "/users"),
       prefix_ + "/users"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(to_json(c.body));
    auto r = api().create_subscription(space_, c.body);
    ASSERT_TRUE(IsJson(r, 201));
    auto v = r.json();
    EXPECT_EQ(v.at("subscriptionId"), bj::value(c.id));
    EXPECT_EQ(v.at("path"), bj::value(c.path));
    EXPECT_TRUE(IsJson(api().get_subscription(space_, c.id), 200));
  }
}

TEST_F(ConfigApiTest, HttpSubscriptionIdsAndUpperCasedMethod) {
  make_function(space_, "listUsers");
  struct Case {
    std::string method_in, method, path;
  };
  const std::vector<Case> cases = {
      {"GET", "GET", prefix_ + "/users"},
      {"get", "GET", prefix_ + "/users/:id"},
      {"Post", "POST", prefix_ + "/users/:id/posts"},
      {"delete", "DELETE", prefix_ + "/files/*rest"},
      {"PUT", "PUT", prefix_ + "/a.b/c-d_e~f"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method_in + " " + c.path);
    auto r = api().create_subscription(space_, http_subscription("listUsers", c.method_in, c.path));
    ASSERT_TRUE(IsJson(r, 201));
    const std::string id = "http," + c.method + "," + path_escape(c.path);
    const bj::value expected =
        bj::object{{"space", space_},           {"subscriptionId", id}, {"event", "http"},
                   {"functionId", "listUsers"}, {"path", c.path},       {"method", c.method}};
    EXPECT_EQ(r.json(), expected);
    auto g = api().get_subscription(space_, id);
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(g.json(), expected);
  }
  // Spot-check the escaping with literal ids, as the contract spells them.
  EXPECT_TRUE(IsJson(api().get_subscription(space_, "http,GET,%2F" + space_ + "%2Fusers%2F:id"), 200));
  EXPECT_TRUE(IsJson(api().get_subscription(space_, "http,DELETE,%2F" + space_ + "%2Ffiles%2F%2Arest"), 200));
}

TEST_F(ConfigApiTest, EveryHttpMethodIsAccepted) {
  make_function(space_, "fn");
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    SCOPED_TRACE(m);
    auto r = api().create_subscription(space_, http_subscription("fn", m, prefix_ + "/thing"));
    ASSERT_TRUE(IsJson(r, 201));
    EXPECT_EQ(r.json().at("method"), bj::value(m));
  }
  EXPECT_EQ(api().list_subscriptions(space_).size(), 7u);
}

TEST_F(ConfigApiTest, InvokeSubscriptionId) {
  make_function(space_, "createUser");
  auto r = api().create_subscription(space_, custom_subscription("invoke", "createUser"));
  ASSERT_TRUE(IsJson(r, 201));
  const bj::value expected = bj::object{{"space", space_},
                                        {"subscriptionId", "invoke,createUser,%2F"},
                                        {"event", "invoke"},
                                        {"functionId", "createUser"},
                                        {"path", "/"}};
  EXPECT_EQ(r.json(), expected);
}

TEST_F(ConfigApiTest, HttpSubscriptionNeedsAValidMethod) {
  make_function(space_, "fn");
  const std::string path = prefix_ + "/x";
  std::vector<bj::object> bodies;
  bodies.push_back(bj::object{{"event", "http"}, {"functionId", "fn"}, {"path", path}});
  for (bj::value m : {bj::value(""), bj::value("FETCH"), bj::value("GET "), bj::value(5), bj::value(nullptr),
                      bj::value("CONNECT"), bj::value("TRACE")}) {
    auto b = http_subscription("fn", "GET", path);
    b["method"] = m;
    bodies.push_back(b);
  }
  for (const auto& b : bodies) {
    SCOPED_TRACE(to_json(b));
    EXPECT_TRUE(IsJsonError(api().create_subscription(space_, b), 400));
  }
  EXPECT_TRUE(api().list_subscriptions(space_).empty());
}

TEST_F(ConfigApiTest, CorsDefaultsAndPartialObjects) {
  make_function(space_, "fn");
  struct Case {
    std::string name;
    bj::value cors;
    bj::value expected;
  };
  const std::vector<Case> cases = {
      {"empty", bj::object{}, cors_defaults()},
      {"origins only", bj::object{{"origins", bj::array{"http://*.example.com"}}},
       bj::object{{"origins", bj::array{"http://*.example.com"}},
                  {"methods", bj::array{"HEAD", "GET", "POST"}},
                  {"headers", bj::array{"Origin", "Accept", "Content-Type"}},
                  {"allowCredentials", false}}},
      {"methods, headers, credentials",
       bj::object{{"methods", bj::array{"GET", "PUT"}},
                  {"headers", bj::array{"X-Custom"}},
                  {"allowCredentials", true}},
       bj::object{{"origins", bj::array{"*"}},
                  {"methods", bj::array{"GET", "PUT"}},
                  {"headers", bj::array{"X-Custom"}},
                  {"allowCredentials", true}}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    SCOPED_TRACE(c.name);
    auto body = http_subscription("fn", "GET", prefix_ + "/c" + std::to_string(i));
    body["cors"] = c.cors;
    auto r = api().create_subscription(space_, body);
    ASSERT_TRUE(IsJson(r, 201));
    auto v = r.json();
    ASSERT_TRUE(v.as_object().contains("cors")) << r.describe();
    EXPECT_EQ(v.at("cors"), c.expected);
    auto g = api().get_subscription(space_, std::string(v.at("subscriptionId").as_string()));
    ASSERT_TRUE(IsJson(g, 200));
    EXPECT_EQ(g.json(), v);
  }
  // Without cors there is no cors in the response.
  auto r = api().create_subscription(space_, http_subscription("fn", "GET", prefix_ + "/nocors"));
  ASSERT_TRUE(IsJson(r, 201));
  EXPECT_FALSE(r.json().as_object().contains("cors")) << r.describe();
}

TEST_F(ConfigApiTest, InvalidCorsIs400) {
  make_function(space_, "fn");
  const std::string path = prefix_ + "/x";
  const std::vector<std::pair<std::string, bj::value>> cases = {
      {"cors string", bj::value("yes")},
      {"cors array", bj::array{}},
      {"cors true", bj::value(true)},
      {"origins string", bj::object{{"origins", "*"}}},
      {"origins numbers", bj::object{{"origins", bj::array{1}}}},
      {"methods string", bj::object{{"methods", "GET"}}},
      {"methods with null", bj::object{{"methods", bj::array{nullptr}}}},
      {"headers bool", bj::object{{"headers", bj::array{true}}}},
      {"allowCredentials string", bj::object{{"allowCredentials", "true"}}},
      {"allowCredentials number", bj::object{{"allowCredentials", 1}}},
  };
  for (const auto& [name, cors] : cases) {
    SCOPED_TRACE(name);
    auto body = http_subscription("fn", "GET", path);
    body["cors"] = cors;
    EXPECT_TRUE(IsJsonError(api().create_subscription(space_, body), 400));
  }
  // cors only on http subscriptions.
  for (const char* event : {"user.created", "invoke"}) {
    SCOPED_TRACE(event);
    auto body = custom_subscription(event, "fn", "/y");
    body["cors"] = bj::object{};
    EXPECT_TRUE(IsJsonError(api().create_subscription(space_, body), 400));
  }
  EXPECT_TRUE(api().list_subscriptions(space_).empty());
}

TEST_F(ConfigApiTest, InvalidSubscriptionsAre400AndNothingIsStored) {
  make_function(space_, "fn");
  make_function(space_ + "-other", "elsewhere");
  const std::string long_event(129, 'e');
  const std::string p = prefix_;
  auto custom = [](bj::object o, const std::string& k, bj::value v) {
    o[k] = std::move(v);
    return o;
  };
  const bj::object base = custom_subscription("user.created", "fn", "/ok");
  const bj::object http = http_subscription("fn", "GET", p + "/ok");
  bj::object no_event = base;
  no_event.erase("event");
  bj::object no_fn = base;
  no_fn.erase("functionId");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty body", ""},
      {"malformed JSON", R"({"event":"e","functionId":)"},
      {"array body", "[" + to_json(base) + "]"},
      {"string body", R"("e")"},
      {"missing event", to_json(no_event)},
      {"empty event", to_json(custom(base, "event", ""))},
      {"numeric event", to_json(custom(base, "event", 3))},
      {"event with a space", to_json(custom(base, "event", "user created"))},
      {"event with a slash", to_json(custom(base, "event", "user/created"))},
      {"event with a comma", to_json(custom(base, "event", "user,created"))},
      {"event of 129 chars", to_json(custom(base, "event", bj::string(long_event)))},
      {"missing functionId", to_json(no_fn)},
      {"empty functionId", to_json(custom(base, "functionId", ""))},
      {"numeric functionId", to_json(custom(base, "functionId", 1))},
      {"unregistered function", to_json(custom(base, "functionId", "ghost"))},
      {"function of another space", to_json(custom(base, "functionId", "elsewhere"))},
      {"http, unregistered function", to_json(custom(http, "functionId", "ghost"))},
      {"numeric path", to_json(custom(base, "path", 5))},
      {"path without leading slash", to_json(custom(base, "path", "users"))},
      {"path with //", to_json(custom(base, "path", "/users//x"))},
      {"path with %", to_json(custom(base, "path", "/users%20x"))},
      {"http path without leading slash",
       to_json(custom(http, "path", bj::string_view(p.substr(1) + "/users")))},
      {"http path with //", to_json(custom(http, "path", bj::string_view(p + "//users")))},
      {"http path with %", to_json(custom(http, "path", bj::string_view(p + "/a%2Fb")))},
      {"http wildcard not last", to_json(custom(http, "path", bj::string_view(p + "/files/*rest/more")))},
      {"space differs from URL", to_json(custom(base, "space", "other"))},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name + ": " + body.substr(0, 200));
    EXPECT_TRUE(IsJsonError(api().send("POST", ConfigClient::subscriptions(space_), body), 400));
  }
  EXPECT_TRUE(api().list_subscriptions(space_).empty());
  // The valid forms of the same bodies do work (so the 400s above were about the fields under test).
  EXPECT_TRUE(IsJson(api().create_subscription(space_, base), 201));
  EXPECT_TRUE(IsJson(api().create_subscription(space_, http), 201));
  auto with_space = custom_subscription("with.space", "fn");
  with_space["space"] = space_;
  EXPECT_TRUE(IsJson(api().create_subscription(space_, with_space), 201));
  const std::string longest(128, 'e');
  EXPECT_TRUE(IsJson(api().create_subscription(space_, custom_subscription(longest, "fn")), 201));
}

TEST_F(ConfigApiTest, DuplicateSubscriptionIs409) {
  make_function(space_, "fn");
  make_function(space_, "fn2");
  auto custom = custom_subscription("user.created", "fn", "/team");
  ASSERT_TRUE(IsJson(api().create_subscription(space_, custom), 201));
  EXPECT_TRUE(IsJsonError(api().create_subscription(space_, custom), 409));

  auto http = http_subscription("fn", "GET", prefix_ + "/users");
  ASSERT_TRUE(IsJson(api().create_subscription(space_, http), 201));
  EXPECT_TRUE(IsJsonError(api().create_subscription(space_, http), 409));
  // Same method+path with another function: the same endpoint, still one subscription.
  auto other = http_subscription("fn2", "get", prefix_ + "/users/");
  EXPECT_TRUE(IsJsonError(api().create_subscription(space_, other), 409));

  auto l = api().list_subscriptions(space_);
  ASSERT_EQ(l.size(), 2u);
  auto g = api().get_subscription(space_, "http,GET," + path_escape(prefix_ + "/users"));
  ASSERT_TRUE(IsJson(g, 200));
  EXPECT_EQ(g.json().at("functionId"), bj::value("fn"));
}

TEST_F(ConfigApiTest, ConflictingHttpPathsAre400) {
  make_function(space_, "fn");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/users/:id", "/users/foo"},
      {"/users/foo", "/users/:id"},
      {"/users/:id", "/users/:name"},
      {"/users/:id/posts", "/users/:name/comments"},
      {"/users/:id/posts", "/users/foo/posts"},
      {"/files/*path", "/files/foo"},
      {"/files/foo", "/files/*path"},
      {"/files/*path", "/files/:name"},
      {"/files/:name", "/files/*path"},
      {"/files/*path", "/files/*other"},
      {"/files/*path", "/files/a/b"},
      {"/files/a/b", "/files/*path"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& [first, second] = cases[i];
    SCOPED_TRACE(first + " then " + second);
    const std::string base = prefix_ + "/c" + std::to_string(i);
    auto r1 = api().create_subscription(space_, http_subscription("fn", "GET", base + first));
    ASSERT_TRUE(IsJson(r1, 201));
    auto r2 = api().create_subscription(space_, http_subscription("fn", "GET", base + second));
    EXPECT_TRUE(IsJsonError(r2, 400));
    EXPECT_TRUE(IsJsonError(api().get_subscription(space_, "http,GET," + path_escape(base + second)), 404));
  }
  EXPECT_EQ(api().list_subscriptions(space_).size(), cases.size());
}

TEST_F(ConfigApiTest, NonConflictingPathsAreAccepted) {
  make_function(space_, "fn");
  const std::string p = prefix_;
  const std::vector<bj::object> subs = {
      // same parameter name at the same position
      http_subscription("fn", "GET", p + "/users/:id"),
      http_subscription("fn", "GET", p + "/users/:id/posts"),
      http_subscription("fn", "GET", p + "/users/:id/posts/:postId"),
      // distinct static segments
      http_subscription("fn", "GET", p + "/static/foo"),
      http_subscription("fn", "GET", p + "/static/bar"),
      http_subscription("fn", "GET", p + "/static"),
      // different methods never conflict
      http_subscription("fn", "POST", p + "/users/foo"),
      http_subscription("fn", "PUT", p + "/users/:name"),
      http_subscription("fn", "POST", p + "/files/foo"),
      http_subscription("fn", "GET", p + "/files/*path"),
      // custom events never conflict on paths (not even with http subscriptions)
      custom_subscription("user.created", "fn", p + "/users/foo"),
      custom_subscription("user.deleted", "fn", p + "/users/:name"),
      custom_subscription("user.updated", "fn", p + "/files/foo"),
  };
  for (const auto& s : subs) {
    SCOPED_TRACE(to_json(s));
    EXPECT_TRUE(IsJson(api().create_subscription(space_, s), 201));
  }
  EXPECT_EQ(api().list_subscriptions(space_).size(), subs.size());
}

TEST_F(ConfigApiTest, HttpEndpointIsUniqueAcrossSpaces) {
  const std::string a = space_ + "-a", b = space_ + "-b";
  make_function(a, "fn");
  make_function(b, "fn");
  ASSERT_TRUE(IsJson(api().create_subscription(a, http_subscription("fn", "GET", prefix_ + "/x")), 201));
  EXPECT_TRUE(IsJsonError(api().create_subscription(b, http_subscription("fn", "GET", prefix_ + "/x")), 409));
  EXPECT_TRUE(api().list_subscriptions(b).empty());
  // Another method on the same path is another endpoint.
  EXPECT_TRUE(IsJson(api().create_subscription(b, http_subscription("fn", "POST", prefix_ + "/x")), 201));
  // A path that conflicts by the README's rules with another space's path is refused too.
  ASSERT_TRUE(IsJson(api().create_subscription(a, http_subscription("fn", "GET", prefix_ + "/y/foo")), 201));
  auto r = api().create_subscription(b, http_subscription("fn", "GET", prefix_ + "/y/:id"));
  EXPECT_TRUE(r.status == 400 || r.status == 409) << r.describe();
  EXPECT_TRUE(IsJsonError(r, r.status));
  EXPECT_EQ(api().list_subscriptions(b).size(), 1u);
}

TEST_F(ConfigApiTest, CustomSubscriptionsAreIsolatedBySpace) {
  const std::string a = space_ + "-a", b = space_ + "-b";
  make_function(a, "fn");
  make_function(b, "fn");
  auto ra = api().create_subscription(a, custom_subscription("user.created", "fn", "/team"));
  auto rb = api().create_subscription(b, custom_subscription("user.created", "fn", "/team"));
  ASSERT_TRUE(IsJson(ra, 201));
  ASSERT_TRUE(IsJson(rb, 201));
  EXPECT_EQ(ra.json().at("space"), bj::value(a));
  EXPECT_EQ(rb.json().at("space"), bj::value(b));
  auto la = api().list_subscriptions(a);
  ASSERT_EQ(la.size(), 1u);
  EXPECT_EQ(la[0].at("space"), bj::value(a));
  EXPECT_TRUE(api().list_subscriptions(space_ + "-c").empty());
  EXPECT_TRUE(IsJsonError(api().get_subscription(space_ + "-c", "user.created,fn,%2Fteam"), 404));
  EXPECT_EQ(api().del(ConfigClient::subscriptions(a) + "/user.created,fn,%2Fteam").status, 204);
  EXPECT_TRUE(IsJson(api().get_subscription(b, "user.created,fn,%2Fteam"), 200));
}

TEST_F(ConfigApiTest, SubscriptionIdInUrlMayBeRawOrEncodedOnceMore) {
  make_function(space_, "sendEmail");
  auto custom =
      api().create_subscription(space_, custom_subscription("user.created", "sendEmail", "/myteam"));
  ASSERT_TRUE(IsJson(custom, 201));
  auto http =
      api().create_subscription(space_, http_subscription("sendEmail", "GET", prefix_ + "/users/:id"));
  ASSERT_TRUE(IsJson(http, 201));

  for (const auto& created : {custom, http}) {
    const std::string id(created.json().at("subscriptionId").as_string());
    const std::string encoded = blackbox::encode_uri_component(id);
    SCOPED_TRACE(id + " / " + encoded);
    ASSERT_NE(id, encoded);
    auto raw = api().get_subscription(space_, id);
    ASSERT_TRUE(IsJson(raw, 200));
    EXPECT_EQ(raw.json(), created.json());
    auto enc = api().get_subscription(space_, encoded);
    ASSERT_TRUE(IsJson(enc, 200));
    EXPECT_EQ(enc.json(), created.json());
  }
  EXPECT_EQ(blackbox::encode_uri_component("user.created,sendEmail,%2Fmyteam"),
            "user.created%2CsendEmail%2C%252Fmyteam");

  // Delete one by the encoded form, the other by the raw form.
  auto d1 = api().del(ConfigClient::subscriptions(space_) + "/user.created%2CsendEmail%2C%252Fmyteam");
  EXPECT_EQ(d1.status, 204) << d1.describe();
  EXPECT_TRUE(d1.body.empty());
  const std::string http_id(http.json().at("subscriptionId").as_string());
  auto d2 = api().del(ConfigClient::subscriptions(space_) + "/" + http_id);
  EXPECT_EQ(d2.status, 204) << d2.describe();
  EXPECT_TRUE(api().list_subscriptions(space_).empty());
  EXPECT_TRUE(IsJsonError(api().get_subscription(space_, "user.created,sendEmail,%2Fmyteam"), 404));
  EXPECT_TRUE(IsJsonError(api().get_subscription(space_, "user.created%2CsendEmail%2C%252Fmyteam"), 404));
  EXPECT_TRUE(IsJsonError(api().del(ConfigClient::subscriptions(space_) + "/" + http_id), 404));
  EXPECT_TRUE(IsJsonError(
      api().del(ConfigClient::subscriptions(space_) + "/" + blackbox::encode_uri_component(http_id)), 404));
}

TEST_F(ConfigApiTest, GetAndDeleteAbsentSubscriptionAre404) {
  EXPECT_TRUE(IsJsonError(api().get_subscription(space_, "user.created,fn,%2F"), 404));
  EXPECT_TRUE(IsJsonError(api().get_subscription(space_, "nonsense"), 404));
  EXPECT_TRUE(IsJsonError(api().del(ConfigClient::subscriptions(space_) + "/user.created,fn,%2F"), 404));
}

TEST_F(ConfigApiTest, DeletingAnHttpSubscriptionFreesItsPath) {
  const std::string other = space_ + "-other";
  make_function(space_, "fn");
  make_function(other, "fn");
  auto r = api().create_subscription(space_, http_subscription("fn", "GET", prefix_ + "/users/:id"));
  ASSERT_TRUE(IsJson(r, 201));
  ASSERT_TRUE(IsJsonError(
      api().create_subscription(space_, http_subscription("fn", "GET", prefix_ + "/users/foo")), 400));
  ASSERT_TRUE(IsJsonError(
      api().create_subscription(other, http_subscription("fn", "GET", prefix_ + "/users/:id")), 409));
  auto d = api().del(ConfigClient::subscriptions(space_) + "/" +
                     std::string(r.json().at("subscriptionId").as_string()));
  ASSERT_EQ(d.status, 204) << d.describe();
  EXPECT_TRUE(
      IsJson(api().create_subscription(space_, http_subscription("fn", "GET", prefix_ + "/users/foo")), 201));
  // ... and the endpoint is free for another space too.
  EXPECT_TRUE(
      IsJson(api().create_subscription(other, http_subscription("fn", "GET", prefix_ + "/users/bar")), 201));
}

TEST_F(ConfigApiTest, ListSubscriptionsIsSortedBySubscriptionId) {
  make_function(space_, "fn");
  make_function(space_, "alpha");
  const std::vector<bj::object> subs = {
      custom_subscription("zeta", "fn", "/b"),           http_subscription("fn", "POST", prefix_ + "/b"),
      custom_subscription("alpha.event", "fn"),          custom_subscription("invoke", "alpha"),
      http_subscription("alpha", "GET", prefix_ + "/a"), custom_subscription("zeta", "fn", "/a"),
      custom_subscription("beta", "alpha", "/a/b"),
  };
  std::vector<std::string> expected;
  for (const auto& s : subs) {
    auto r = api().create_subscription(space_, s);
    ASSERT_TRUE(IsJson(r, 201)) << to_json(s);
    expected.emplace_back(r.json().at("subscriptionId").as_string());
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> ids;
  for (const auto& s : api().list_subscriptions(space_)) {
    ASSERT_TRUE(s.is_object());
    EXPECT_EQ(s.at("space"), bj::value(space_));
    ids.emplace_back(s.at("subscriptionId").as_string());
  }
  EXPECT_EQ(ids, expected);
}

// ---- dead letters -----------------------------------------------------------------------------------------

// Nothing makes dead letters yet, and the binary has no way in for tests: these check what needs no
// letter. What needs letters is tested in process (tests/unit/dead_letters_api_test.cpp).

std::string dead_letters(const std::string& space) { return "/v1/spaces/" + space + "/deadletters"; }

TEST_F(ConfigApiTest, DeadLettersOfASpaceWithoutAnyAreAnEmptyList) {
  for (const char* query : {"", "?limit=1", "?limit=1000"}) {
    SCOPED_TRACE(query);
    auto r = api().get(dead_letters(space_) + query);
    ASSERT_TRUE(IsJson(r, 200));
    EXPECT_EQ(r.json(), bj::parse(R"({"deadLetters":[]})"));
  }
}

TEST_F(ConfigApiTest, AnUnknownDeadLetterIs404) {
  const auto letter = dead_letters(space_) + "/no-such-letter";
  EXPECT_TRUE(IsJsonError(api().get(letter), 404));
  EXPECT_TRUE(IsJsonError(api().del(letter), 404));
  EXPECT_TRUE(IsJsonError(api().send("POST", letter + "/redeliver", ""), 404));
}

TEST_F(ConfigApiTest, ABadDeadLetterPageIs400) {
  for (const char* query :
       {"?limit=0", "?limit=1001", "?limit=ten", "?limit=", "?cursor=", "?cursor=12.0123456789abcdef"}) {
    SCOPED_TRACE(query);
    EXPECT_TRUE(IsJsonError(api().get(dead_letters(space_) + query), 400));
  }
  EXPECT_TRUE(IsJsonError(api().get(dead_letters("bad%20space")), 400));
}

TEST_F(ConfigApiTest, DeadLettersAnswerOtherMethodsWith405AndAllow) {
  const auto list = dead_letters(space_);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"POST", list, "GET"},
      {"DELETE", list, "GET"},
      {"PUT", list + "/x", "GET, DELETE"},
      {"POST", list + "/x", "GET, DELETE"},
      {"GET", list + "/x/redeliver", "POST"},
  };
  for (const auto& [method, path, allow] : cases) {
    SCOPED_TRACE(method + " " + path);
    auto r = api().send(method, path, method == "GET" || method == "DELETE" ? "" : "{}");
    EXPECT_TRUE(IsJsonError(r, 405));
    EXPECT_EQ(r.header("allow"), allow);
  }
}

// The dead letters live in the spool's directory: under the embedded store's in dev mode, or -spool-dir.
TEST(DeadLetterStorage, DevModeKeepsThemUnderTheDataDirectoryAndSpoolDirMovesThem) {
  {
    GatewayProcess gw;
    ASSERT_TRUE(gw.start());
    EXPECT_TRUE(std::filesystem::exists(gw.data_dir() / "spool" / "deadletters.db"));
    EXPECT_TRUE(gw.stop());
    EXPECT_EQ(gw.exit_code(), 0);
  }
  blackbox::TempDir spool;
  GatewayOptions options;
  options.extra_args = {"-spool-dir", (spool.path() / "letters").string()};
  GatewayProcess gw(options);
  ASSERT_TRUE(gw.start());
  EXPECT_TRUE(std::filesystem::exists(spool.path() / "letters" / "deadletters.db"));
  EXPECT_FALSE(std::filesystem::exists(gw.data_dir() / "spool"));
  EXPECT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
}

// ---- body size limit and malformed HTTP -------------------------------------------------------------------

// `function` serialized and padded with trailing whitespace to exactly `size` bytes (still valid JSON).
std::string padded_json(const bj::object& function, std::size_t size) {
  std::string s = to_json(function);
  if (s.size() < size) s.append(size - s.size(), ' ');
  return s;
}

TEST_F(ConfigApiTest, BodyOverTheDefaultLimitIs413AndNothingIsStored) {
  constexpr std::size_t kLimit = 1048576;
  auto big =
      api().send("POST", ConfigClient::functions(space_), padded_json(http_function("fn"), kLimit + 1));
  EXPECT_TRUE(IsJsonError(big, 413));
  EXPECT_TRUE(IsJsonError(api().get_function(space_, "fn"), 404));

  make_function(space_, "sub-fn");
  std::string sub = to_json(custom_subscription("e", "sub-fn"));
  sub.append(kLimit + 100 - sub.size(), ' ');
  EXPECT_TRUE(IsJsonError(api().send("POST", ConfigClient::subscriptions(space_), sub), 413));
  EXPECT_TRUE(api().list_subscriptions(space_).empty());

  // Exactly at the limit is fine.
  auto at_limit =
      api().send("POST", ConfigClient::functions(space_), padded_json(http_function("fn"), kLimit));
  EXPECT_TRUE(IsJson(at_limit, 201));
  EXPECT_TRUE(IsJson(api().get_function(space_, "fn"), 200));
}

std::string chunked_post(const std::string& path, const std::string& body) {
  std::ostringstream req;
  req << "POST " << path << " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      << "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  // Two chunks, to be sure the size is summed over chunks.
  std::size_t half = body.size() / 2;
  for (const std::string& part : {body.substr(0, half), body.substr(half)}) {
    req << std::hex << part.size() << std::dec << "\r\n" << part << "\r\n";
  }
  req << "0\r\n\r\n";
  return req.str();
}

// Does the raw response start with "HTTP/1.x <status>"?
bool starts_with_status(const std::string& raw, int status) {
  if (raw.size() < 12 || !(raw.starts_with("HTTP/1.1 ") || raw.starts_with("HTTP/1.0 "))) return false;
  return raw.compare(9, 3, std::to_string(status)) == 0;
}

// Contains "<digits>.<digits>"?
bool contains_version_number(const std::string& text) {
  for (std::size_t i = 1; i + 1 < text.size(); ++i)
    if (text[i] == '.' && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])))
      return true;
  return false;
}

TEST(ConfiguredBodyLimit, SmallLimitIsEnforced) {
  GatewayOptions options;
  options.extra_args = {"-max-body-bytes", "256"};
  GatewayProcess gw(options);
  ASSERT_TRUE(gw.start());
  ConfigClient api(gw.config_url());
  const std::string space = "limits";

  auto over = api.send("POST", ConfigClient::functions(space), padded_json(http_function("fn"), 257));
  EXPECT_TRUE(IsJsonError(over, 413));
  EXPECT_TRUE(IsJsonError(api.get_function(space, "fn"), 404));

  auto at = api.send("POST", ConfigClient::functions(space), padded_json(http_function("fn"), 256));
  EXPECT_TRUE(IsJson(at, 201));

  // A chunked body is counted too.
  auto raw = blackbox::send_raw(gw.config_port(), chunked_post(ConfigClient::functions(space),
                                                               padded_json(http_function("chunky"), 300)));
  EXPECT_TRUE(starts_with_status(raw.data, 413)) << raw.data.substr(0, 300);
  EXPECT_TRUE(IsJsonError(api.get_function(space, "chunky"), 404));
  auto small = blackbox::send_raw(gw.config_port(), chunked_post(ConfigClient::functions(space),
                                                                 padded_json(http_function("chunky"), 200)));
  EXPECT_TRUE(starts_with_status(small.data, 201)) << small.data.substr(0, 300);
  EXPECT_TRUE(IsJson(api.get_function(space, "chunky"), 200));

  // An update over the limit is refused and changes nothing.
  auto put_over = api.send(
      "PUT", ConfigClient::functions(space) + "/fn",
      padded_json(
          bj::object{{"type", "http"}, {"provider", bj::object{{"url", "http://example.com/changed"}}}},
          257));
  EXPECT_TRUE(IsJsonError(put_over, 413));
  EXPECT_EQ(api.get_function(space, "fn").json(), at.json());

  EXPECT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
}

TEST_F(ConfigApiTest, KeepAliveConnectionServesSeveralRequests) {
  // Two pipelined requests on one connection (HTTP/1.1 persistent connections), the second closing it.
  const std::string create = to_json(http_function("fn"));
  std::ostringstream req;
  req << "POST " << ConfigClient::functions(space_)
      << " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      << "Content-Length: " << create.size() << "\r\n\r\n"
      << create << "GET " << ConfigClient::functions(space_)
      << "/fn HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  auto raw = blackbox::send_raw(config_port(), req.str());
  EXPECT_TRUE(raw.closed) << "the server should close after `Connection: close`";
  EXPECT_TRUE(starts_with_status(raw.data, 201)) << raw.data;
  auto second = raw.data.find("HTTP/1.1 ", 1);
  ASSERT_NE(second, std::string::npos) << "only one response: " << raw.data;
  EXPECT_TRUE(starts_with_status(raw.data.substr(second), 200)) << raw.data;
}

TEST_F(ConfigApiTest, MalformedHttpIsRejectedAndTheServerKeepsServing) {
  const std::string fns = ConfigClient::functions(space_);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"binary garbage", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 22)},
      {"text garbage", "THIS IS NOT HTTP AT ALL\r\n\r\n"},
      {"bad version", "GET /v1/status HTTP/9.9x\r\nHost: x\r\n\r\n"},
      {"header without colon", "GET /v1/status HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n"},
      {"bad content-length", "POST " + fns + " HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"},
      {"bad chunk size",
       "POST " + fns + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n0\r\n\r\n"},
      {"chunk size mismatch", "POST " + fns +
                                  " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "2\r\nhello world\r\n0\r\n\r\n"},
      {"chunk without CRLF", "POST " + fns +
                                 " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nhelloXX0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    auto raw = blackbox::send_raw(config_port(), bytes);
    EXPECT_TRUE(raw.error.empty() || raw.closed) << raw.error;
    if (raw.data.empty()) {
      EXPECT_TRUE(raw.closed) << "no response and the connection was not closed";
    } else {
      EXPECT_TRUE(starts_with_status(raw.data, 400)) << "response: " << raw.data.substr(0, 300);
    }
    auto status = api().get("/v1/status");
    EXPECT_EQ(status.status, 200) << "after " << name << ": " << status.describe();
  }
  EXPECT_TRUE(api().list_functions(space_).empty());
  // A well-formed raw request still works.
  auto ok =
      blackbox::send_raw(config_port(), "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(starts_with_status(ok.data, 200)) << ok.data;
}

// ---- atomic writes under concurrency ----------------------------------------------------------------------

constexpr int kConcurrency = 16;

// Runs `body(i)` on kConcurrency threads released at the same moment; returns the responses.
template <typename F>
std::vector<HttpResponse> concurrently(F body) {
  std::vector<HttpResponse> results(kConcurrency);
  std::latch start(kConcurrency);
  std::vector<std::thread> threads;
  for (int i = 0; i < kConcurrency; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = body(i);
    });
  }
  for (auto& t : threads) t.join();
  return results;
}

TEST_F(ConfigApiTest, ConcurrentCreatesOfOneFunctionYieldOne201) {
  auto results = concurrently([&](int i) {
    return api().create_function(space_, http_function("racer", "http://example.com/" + std::to_string(i)));
  });
  int created = 0, conflicts = 0;
  std::string winner_url;
  for (const auto& r : results) {
    if (r.status == 201) {
      ++created;
      winner_url = std::string(r.json().at("provider").at("url").as_string());
    } else if (r.status == 409) {
      ++conflicts;
      EXPECT_TRUE(IsJsonError(r, 409));
    } else {
      ADD_FAILURE() << "unexpected response: " << r.describe();
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kConcurrency - 1);
  auto l = api().list_functions(space_);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("provider").at("url"), bj::value(winner_url));
}

TEST_F(ConfigApiTest, ConcurrentConflictingHttpSubscriptionsYieldOne201) {
  make_function(space_, "fn");
  auto results = concurrently([&](int i) {
    return api().create_subscription(
        space_, http_subscription("fn", "GET", prefix_ + "/items/:p" + std::to_string(i)));
  });
  int created = 0;
  std::string winner;
  for (const auto& r : results) {
    if (r.status == 201) {
      ++created;
      winner = std::string(r.json().at("path").as_string());
    } else {
      EXPECT_TRUE(r.status == 400 || r.status == 409) << r.describe();
      EXPECT_TRUE(IsJsonError(r, r.status));
    }
  }
  EXPECT_EQ(created, 1);
  auto l = api().list_subscriptions(space_);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("path"), bj::value(winner));
}

TEST_F(ConfigApiTest, ConcurrentSameEndpointInManySpacesYieldsOne201) {
  for (int i = 0; i < kConcurrency; ++i) make_function(space_ + "-" + std::to_string(i), "fn");
  auto results = concurrently([&](int i) {
    return api().create_subscription(space_ + "-" + std::to_string(i),
                                     http_subscription("fn", "GET", prefix_ + "/shared"));
  });
  int created = 0, conflicts = 0;
  for (const auto& r : results) {
    if (r.status == 201)
      ++created;
    else if (r.status == 409)
      ++conflicts;
    else
      ADD_FAILURE() << "unexpected response: " << r.describe();
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kConcurrency - 1);
  std::size_t total = 0;
  for (int i = 0; i < kConcurrency; ++i)
    total += api().list_subscriptions(space_ + "-" + std::to_string(i)).size();
  EXPECT_EQ(total, 1u);
}

TEST_F(ConfigApiTest, ConcurrentDeleteFunctionAndSubscribeNeverBothSucceed) {
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string fn = "fn" + std::to_string(round);
    make_function(space_, fn);
    HttpResponse del_r, sub_r;
    std::latch start(2);
    std::thread t1([&] {
      start.arrive_and_wait();
      del_r = api().del(ConfigClient::functions(space_) + "/" + fn);
    });
    std::thread t2([&] {
      start.arrive_and_wait();
      sub_r = api().create_subscription(space_, custom_subscription("e", fn));
    });
    t1.join();
    t2.join();
    EXPECT_TRUE(del_r.status == 204 || del_r.status == 400) << del_r.describe();
    EXPECT_TRUE(sub_r.status == 201 || sub_r.status == 400) << sub_r.describe();
    EXPECT_FALSE(del_r.status == 204 && sub_r.status == 201)
        << "the function was deleted while a subscription to it was created";
    // Consistent end state: a subscription implies its function.
    const bool fn_exists = api().get_function(space_, fn).status == 200;
    const bool sub_exists = api().get_subscription(space_, "e," + fn + ",%2F").status == 200;
    EXPECT_EQ(fn_exists, del_r.status != 204);
    EXPECT_EQ(sub_exists, sub_r.status == 201);
    EXPECT_FALSE(sub_exists && !fn_exists);
  }
}

// ---- process lifecycle: restart, SIGTERM ------------------------------------------------------------------

TEST(GatewayLifecycle, RestartKeepsConfiguration) {
  GatewayProcess gw;
  ASSERT_TRUE(gw.start());
  ConfigClient api(gw.config_url());
  const std::vector<std::string> spaces = {"default", "team-b"};
  for (const auto& s : spaces) {
    ASSERT_TRUE(IsJson(api.create_function(s, http_function("web", "http://example.com/" + s)), 201));
    ASSERT_TRUE(IsJson(api.create_function(s, bj::object{{"functionId", "lambda"},
                                                         {"type", "awslambda"},
                                                         {"provider", bj::object{{"arn", "arn:aws:lambda:x"},
                                                                                 {"region", "us-east-1"},
                                                                                 {"awsAccessKeyId", "AKID"},
                                                                                 {"awsSecretAccessKey", "S"},
                                                                                 {"awsSessionToken", "T"}}}}),
                       201));
    ASSERT_TRUE(IsJson(api.create_function(s, bj::object{{"functionId", "kinesis"},
                                                         {"type", "awskinesis"},
                                                         {"provider", bj::object{{"streamName", "st"},
                                                                                 {"region", "eu-west-1"}}}}),
                       201));
    ASSERT_TRUE(IsJson(api.create_function(s, bj::object{{"functionId", "firehose"},
                                                         {"type", "awsfirehose"},
                                                         {"provider", bj::object{{"deliveryStreamName", "d"},
                                                                                 {"region", "eu-west-1"}}}}),
                       201));
    ASSERT_TRUE(
        IsJson(api.create_subscription(s, custom_subscription("user.created", "web", "/myteam")), 201));
    ASSERT_TRUE(IsJson(api.create_subscription(s, custom_subscription("invoke", "lambda")), 201));
    auto cors = http_subscription("web", "POST", "/" + s + "/users");
    cors["cors"] = bj::object{{"origins", bj::array{"http://*.example.com"}}, {"allowCredentials", true}};
    ASSERT_TRUE(IsJson(api.create_subscription(s, cors), 201));
    ASSERT_TRUE(
        IsJson(api.create_subscription(s, http_subscription("web", "GET", "/" + s + "/users/:id")), 201));
    ASSERT_TRUE(IsJson(api.create_subscription(s, custom_subscription("to.delete", "kinesis")), 201));
  }
  // A delete before the restart must stay deleted.
  ASSERT_EQ(api.del(ConfigClient::subscriptions("team-b") + "/to.delete,kinesis,%2F").status, 204);
  ASSERT_EQ(api.del(ConfigClient::subscriptions("default") + "/to.delete,kinesis,%2F").status, 204);
  ASSERT_EQ(api.del(ConfigClient::functions("team-b") + "/kinesis").status, 204);

  auto snapshot = [&] {
    std::vector<std::string> bodies;
    for (const auto& s : spaces) {
      for (const auto& path : {ConfigClient::functions(s), ConfigClient::subscriptions(s)}) {
        auto r = api.get(path);
        EXPECT_TRUE(IsJson(r, 200)) << path;
        bodies.push_back(to_json(r.json()));
      }
    }
    return bodies;
  };
  const auto before = snapshot();
  ASSERT_FALSE(::testing::Test::HasFailure());

  ASSERT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
  ASSERT_TRUE(gw.restart());
  EXPECT_EQ(snapshot(), before);

  // The rebuilt state still enforces uniqueness and path conflicts.
  EXPECT_TRUE(IsJsonError(api.create_function("default", http_function("web")), 409));
  EXPECT_TRUE(IsJsonError(
      api.create_subscription("default", custom_subscription("user.created", "web", "/myteam")), 409));
  EXPECT_TRUE(IsJsonError(
      api.create_subscription("team-b", http_subscription("web", "GET", "/default/users/:id")), 409));
  EXPECT_TRUE(IsJsonError(
      api.create_subscription("default", http_subscription("web", "GET", "/default/users/foo")), 400));
  EXPECT_TRUE(IsJsonError(api.del(ConfigClient::functions("default") + "/web"), 400));
  // Secrets survived but are still hidden.
  auto lambda = api.get_function("default", "lambda");
  ASSERT_TRUE(IsJson(lambda, 200));
  EXPECT_EQ(lambda.json().at("provider").at("awsAccessKeyId"), bj::value("AKID"));
  EXPECT_FALSE(lambda.json().at("provider").as_object().contains("awsSecretAccessKey"));

  // Twice, for good measure, with a write in between.
  ASSERT_TRUE(IsJson(api.create_function("team-b", http_function("late")), 201));
  const auto before2 = snapshot();
  ASSERT_TRUE(gw.restart());
  EXPECT_EQ(snapshot(), before2);
  EXPECT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
}

TEST(GatewayLifecycle, SigtermExitsZero) {
  GatewayProcess gw;
  ASSERT_TRUE(gw.start());
  ConfigClient api(gw.config_url());
  ASSERT_TRUE(IsJson(api.create_function("default", http_function("fn")), 201));
  ASSERT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
  // It really stopped listening.
  EXPECT_EQ(blackbox::request("GET", gw.config_url() + "/v1/status").status, 0);
}

// ---- command-line flags -----------------------------------------------------------------------------------

std::vector<std::string> dev_args(const blackbox::TempDir& dir) {
  auto ports = blackbox::pick_free_ports(2);
  return {"-dev",
          "-embed-data-dir",
          (dir.path() / "data").string(),
          "-config-port",
          std::to_string(ports[0]),
          "-events-port",
          std::to_string(ports[1])};
}

TEST(Flags, VersionPrintsAVersionAndExitsZero) {
  for (const char* flag : {"-version", "--version"}) {
    SCOPED_TRACE(flag);
    auto r = blackbox::run_binary({flag});
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.output();
    EXPECT_TRUE(contains_version_number(r.output())) << "no version in: " << r.output();
  }
}

TEST(Flags, HelpExitsZeroAndMentionsDev) {
  for (const char* flag : {"-help", "--help"}) {
    SCOPED_TRACE(flag);
    auto r = blackbox::run_binary({flag});
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.output();
    EXPECT_NE(r.output().find("-dev"), std::string::npos) << r.output();
  }
}

TEST(Flags, UnknownFlagExitsNonZeroNamingIt) {
  auto r = blackbox::run_binary({"-no-such-flag"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << "stderr: " << r.err << "\nstdout: " << r.out;
}

TEST(Flags, BogusLogLevelExitsNonZero) {
  blackbox::TempDir dir;
  auto args = dev_args(dir);
  args.insert(args.end(), {"-log-level", "bogus"});
  auto r = blackbox::run_binary(args);
  EXPECT_FALSE(r.timed_out) << "it started instead of refusing -log-level bogus";
  EXPECT_NE(r.exit_code, 0) << r.output();
  EXPECT_FALSE(r.err.empty()) << "expected a message on stderr; stdout: " << r.out;
}

TEST(Flags, DevWithOneOrTwoDashesStartsTheServer) {
  for (const char* flag : {"-dev", "--dev"}) {
    SCOPED_TRACE(flag);
    GatewayOptions options;
    options.dev_flag = flag;
    GatewayProcess gw(options);
    ASSERT_TRUE(gw.start());
    ConfigClient api(gw.config_url());
    EXPECT_TRUE(IsJson(api.create_function("default", http_function("fn")), 201));
    EXPECT_TRUE(gw.stop());
    EXPECT_EQ(gw.exit_code(), 0);
  }
}

TEST(Flags, LogFormatJsonWritesJsonLines) {
  GatewayOptions options;
  options.extra_args = {"-log-format", "json"};
  GatewayProcess gw(options);
  ASSERT_TRUE(gw.start());
  ASSERT_TRUE(gw.stop());
  EXPECT_EQ(gw.exit_code(), 0);
  std::istringstream log(gw.log());
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    ++lines;
    boost::system::error_code ec;
    auto v = bj::parse(line, ec);
    ASSERT_FALSE(ec) << "log line is not JSON: " << line;
    ASSERT_TRUE(v.is_object()) << line;
    // The message under "message" (the contract's word) or "msg" (the common short key).
    const auto* m = v.as_object().if_contains("message");
    if (!m) m = v.as_object().if_contains("msg");
    EXPECT_TRUE(m && m->is_string() && !m->as_string().empty()) << "no \"message\"/\"msg\" in: " << line;
  }
  EXPECT_GT(lines, 0) << "nothing was logged at startup";
}

}  // namespace
