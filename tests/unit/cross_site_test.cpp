#include "config/cross_site.h"

#include <gtest/gtest.h>

#include <string>

namespace eg::config {
namespace {

namespace http = net::http;

net::Request request(http::verb method, std::string content_type, std::string body, std::string origin = "",
                     std::string host = "127.0.0.1:4001") {
  net::Request request{method, "/v1/spaces/default/functions", 11};
  if (!content_type.empty()) request.set(http::field::content_type, content_type);
  if (!origin.empty()) request.set(http::field::origin, origin);
  request.set(http::field::host, host);
  request.body() = std::move(body);
  return request;
}

unsigned status_of(const CrossSitePolicy& policy, const net::Request& request) {
  const auto refusal = policy.refusal(request);
  return refusal ? refusal->result_int() : 0;
}

const std::string kBody = R"({"functionId":"f","type":"http","provider":{"url":"http://127.0.0.1:1/"}})";

TEST(CrossSite, WritesWithABodyMustSayJson) {
  const CrossSitePolicy policy;
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody)), 0u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "Application/JSON; charset=utf-8", kBody)), 0u);
  EXPECT_EQ(status_of(policy, request(http::verb::put, "application/merge-patch+json", kBody)), 0u);
  // What a page can send without asking first: each a 415.
  EXPECT_EQ(status_of(policy, request(http::verb::post, "text/plain", kBody)), 415u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "text/plain;charset=UTF-8", kBody)), 415u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/x-www-form-urlencoded", "a=b")), 415u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "multipart/form-data; boundary=x", kBody)), 415u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "", kBody)), 415u);  // a Blob of no type
  EXPECT_EQ(status_of(policy, request(http::verb::post, "+json", kBody)), 415u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/jsonx", kBody)), 415u);
}

TEST(CrossSite, TheRefusalSaysWhatToSend) {
  const auto refusal = CrossSitePolicy().refusal(request(http::verb::post, "text/plain", kBody));
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->body().find("send Content-Type: application/json (got \\\"text/plain\\\")"),
            std::string::npos)
      << refusal->body();
}

TEST(CrossSite, BodilessWritesAndReadsNeedNoContentType) {
  const CrossSitePolicy policy;
  EXPECT_EQ(status_of(policy, request(http::verb::delete_, "", "")), 0u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "", "")), 0u);  // redeliver
  EXPECT_EQ(status_of(policy, request(http::verb::get, "text/plain", "")), 0u);
  // What curl -d '' and libcurl send with an empty body: nothing for a type to describe.
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/x-www-form-urlencoded", "")), 0u);
}

TEST(CrossSite, AWriteFromAForeignPageIsRefused) {
  const CrossSitePolicy policy;
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "https://evil.example")),
            403u);
  EXPECT_EQ(
      status_of(policy, request(http::verb::delete_, "", "", "http://localhost:3000", "localhost:4001")),
      403u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "null")), 403u);
  // DNS rebinding: the page's origin and the Host agree, on a name the attacker points anywhere.
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "http://evil.example:4001",
                                      "evil.example:4001")),
            403u);
  // Reads carry no risk of a change; their answers a foreign page cannot read without CORS.
  EXPECT_EQ(status_of(policy, request(http::verb::get, "", "", "https://evil.example")), 0u);
}

TEST(CrossSite, APageServedByTheApiItselfAtAFixedHostMayWrite) {
  const CrossSitePolicy policy;
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "http://127.0.0.1:4001",
                                      "127.0.0.1:4001")),
            0u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "http://localhost:4001",
                                      "LOCALHOST:4001")),
            0u);
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody, "http://[::1]:4001",
                                      "[::1]:4001")),
            0u);
}

TEST(CrossSite, AnAllowedOriginMayWriteAndRead) {
  const CrossSitePolicy policy({"https://console.example.com"});
  auto write = request(http::verb::post, "application/json", kBody, "https://console.example.com");
  EXPECT_EQ(status_of(policy, write), 0u);
  net::Response response{http::status::created, 11};
  policy.allow_reading(write, response);
  EXPECT_EQ(response[http::field::access_control_allow_origin], "https://console.example.com");
  EXPECT_EQ(response[http::field::vary], "Origin");
  EXPECT_EQ(status_of(policy, request(http::verb::post, "application/json", kBody,
                                      "https://console.example.com:8443")),
            403u);
  net::Response other{http::status::ok, 11};
  policy.allow_reading(request(http::verb::get, "", "", "https://evil.example"), other);
  EXPECT_EQ(other[http::field::access_control_allow_origin], "");
}

TEST(CrossSite, OnlyAnAllowedOriginsPreflightIsAnswered) {
  const CrossSitePolicy policy({"https://console.example.com"});
  auto preflight = request(http::verb::options, "", "", "https://console.example.com");
  preflight.set(http::field::access_control_request_method, "PUT");
  const auto answer = policy.preflight(preflight);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 204u);
  EXPECT_EQ((*answer)[http::field::access_control_allow_origin], "https://console.example.com");
  EXPECT_NE((*answer)[http::field::access_control_allow_headers].find("Authorization"), std::string::npos);
  preflight.set(http::field::origin, "https://evil.example");
  EXPECT_FALSE(policy.preflight(preflight));
  EXPECT_FALSE(policy.preflight(request(http::verb::options, "", "", "https://console.example.com")));
}

TEST(CrossSite, OriginsAreNormalizedAsBrowsersSendThem) {
  EXPECT_EQ(normalize_origin("HTTPS://Console.Example.com/"), "https://console.example.com");
  EXPECT_EQ(normalize_origin(" http://127.0.0.1:8080 "), "http://127.0.0.1:8080");
  EXPECT_EQ(normalize_origin("http://[::1]:4001"), "http://[::1]:4001");
  EXPECT_FALSE(normalize_origin("console.example.com"));
  EXPECT_FALSE(normalize_origin("ftp://example.com"));
  EXPECT_FALSE(normalize_origin("https://example.com/path"));
  EXPECT_FALSE(normalize_origin("https://user@example.com"));
  EXPECT_FALSE(normalize_origin("https://"));
  EXPECT_FALSE(normalize_origin("null"));
}

}  // namespace
}  // namespace eg::config
