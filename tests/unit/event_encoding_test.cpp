#include <gtest/gtest.h>

#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "common/base64.h"
#include "events/cors.h"
#include "events/event.h"
#include "events/http_event.h"

namespace eg::events {
namespace {

TEST(EventEncoding, JsonPayloadTravelsAsJson) {
  const auto event = make_event("user.created", "application/json", R"({"name":"Max"})");
  const auto json = event.to_json();
  EXPECT_EQ(json.at("event"), "user.created");
  EXPECT_EQ(boost::json::serialize(json.at("data")), R"({"name":"Max"})");
  EXPECT_EQ(json.at("dataType"), "application/json");
  const std::string id_text(json.at("id").as_string());
  const auto id = boost::uuids::string_generator()(id_text);
  EXPECT_EQ(id.version(), boost::uuids::uuid::version_random_number_based);
  EXPECT_EQ(id.variant(), boost::uuids::uuid::variant_rfc_4122);
  EXPECT_EQ(boost::uuids::to_string(id), id_text) << "canonical lower-case form";
  EXPECT_NEAR(static_cast<double>(json.at("receivedAt").as_int64()), static_cast<double>(now_millis()), 60'000.0);
}

TEST(EventEncoding, SerializedEventIsTheSameJsonAsTheEventObject) {
  auto event = make_event("user.\"quoted\"\n", "application/vnd.api+json",
                          R"({"name":"Max \u00e9","n":[1,2.5,null]})");
  const auto text = event.serialize();
  EXPECT_EQ(boost::json::parse(text), boost::json::value(event.to_json())) << text;
  EXPECT_EQ(text, boost::json::serialize(event.to_json())) << "same member order";
}

// The text only plugins get is the text a subscriber of the system event would: same members, same
// order, same escapes; only the system event's own id and time differ.
TEST(EventEncoding, ASystemEventWrittenAsTextIsTheJsonOfItsTree) {
  auto about = make_event("user.created", "application/json",
                          R"({"name":"Zo\u00eb \"Z\"","tags":["a",1,null],"nested":{"x":1.5}})");
  about.provenance.trace = {.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                            .tracestate = "congo=t61rcWkgMzE,rojo=\"x\""};
  boost::json::object more{{"space", "team \u00e9"}, {"path", "/a\nb"}, {"headers", {{"X-Bad", "\x01\xff"}}}};
  boost::json::object data{{"event", about.to_json()}};
  for (const auto& member : more) data.emplace(member.key(), member.value());
  const auto tree = make_system_event("gateway.event.received", std::move(data), about.provenance).serialize();
  const auto text = serialize_system_event("gateway.event.received", about.provenance, about.serialize(),
                                           [&](std::string& members) { append_members(members, more); });

  auto expected = boost::json::parse(tree).as_object();
  auto actual = boost::json::parse(text).as_object();
  EXPECT_NE(expected.at("id"), actual.at("id"));
  for (auto* json : {&expected, &actual}) {
    json->erase("id");
    json->erase("receivedAt");
  }
  EXPECT_EQ(boost::json::serialize(actual), boost::json::serialize(expected));  // member order too
  EXPECT_EQ(actual.at("traceparent").as_string(), about.provenance.trace.traceparent);
}

TEST(EventEncoding, OtherPayloadsTravelAsBase64) {
  EXPECT_EQ(make_event("e", "text/plain", "hello").data, "aGVsbG8=");
  const auto untyped = make_event("e", "", std::string("\x00\xff", 2));
  EXPECT_EQ(untyped.data_type, "application/octet-stream");
  EXPECT_EQ(untyped.data, "AP8=");
  EXPECT_EQ(common::base64_encode(""), "");
  EXPECT_EQ(common::base64_encode("ab"), "YWI=");
  EXPECT_EQ(common::base64_encode("abc"), "YWJj");
}

TEST(EventEncoding, RecognizesJsonMediaTypes) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/vnd.api+json"));
  EXPECT_FALSE(is_json_media_type("text/json-ish"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type(""));
}

TEST(EventEncoding, MalformedJsonIsRefusedAndEmptyJsonIsNull) {
  EXPECT_THROW(make_event("e", "application/json", "{nope"), MalformedJson);
  EXPECT_TRUE(make_event("e", "application/json", "").data.is_null());
}

TEST(EventEncoding, NumbersBeyondADoubleAreRefused) {
  EXPECT_THROW(make_event("e", "application/json", R"({"a":1e400})"), MalformedJson);
  EXPECT_THROW(make_event("e", "application/json", "[" + std::string(400, '9') + "]"), MalformedJson);
}

TEST(EventEncoding, SerializedEventsAreValidUtf8WhateverTheirTextHeld) {
  auto event = make_json_event("e", boost::json::object{{"path", "/a\xFF\"b"}, {"k\xC0", "\xF0\x9F\x98"}});
  event.data_type = "text/\xFE";
  const auto text = event.serialize();
  const auto parsed = boost::json::parse(text);  // Boost.JSON refuses ill-formed UTF-8
  EXPECT_EQ(parsed.at("data").at("path"), "/a\xEF\xBF\xBD\"b");
  EXPECT_EQ(parsed.at("data").at("k\xEF\xBF\xBD"), "\xEF\xBF\xBD");
  EXPECT_EQ(parsed.at("dataType"), "text/\xEF\xBF\xBD");
}

TEST(EventEncoding, EventIdsAreUnique) {
  EXPECT_NE(new_event_id(), new_event_id());
}

net::Request request_for(net::http::verb method, std::string target, std::string body = {}) {
  net::Request request{method, target, 11};
  request.set(net::http::field::host, "gw.test:4000");
  request.body() = std::move(body);
  return request;
}

TEST(HttpEventData, CarriesEverythingAFunctionNeeds) {
  auto request = request_for(net::http::verb::post, "/users/42?x=1&x=2&y=a%20b&flag", R"({"k":true})");
  request.insert("x-custom", "one");
  request.insert("X-Custom", "two");
  request.set(net::http::field::content_type, "application/json");
  const auto data = http_event_data(request, "/users/42", {{"id", "42"}});
  EXPECT_EQ(data.at("path"), "/users/42");
  EXPECT_EQ(data.at("method"), "POST");
  EXPECT_EQ(data.at("host"), "gw.test:4000");
  EXPECT_EQ(data.at("headers").at("X-Custom"), "one, two");
  EXPECT_EQ(data.at("headers").at("Content-Type"), "application/json");
  EXPECT_EQ(boost::json::serialize(data.at("query")), R"({"x":["1","2"],"y":["a b"],"flag":[""]})");
  EXPECT_EQ(boost::json::serialize(data.at("params")), R"({"id":"42"})");
  EXPECT_EQ(boost::json::serialize(data.at("body")), R"({"k":true})");
}

TEST(HttpEventData, NonJsonBodyIsBase64AndNoBodyIsNull) {
  auto text = request_for(net::http::verb::put, "/x", "hi");
  text.set(net::http::field::content_type, "text/plain");
  EXPECT_EQ(http_event_data(text, "/x", {}).at("body"), "aGk=");
  EXPECT_TRUE(http_event_data(request_for(net::http::verb::get, "/x"), "/x", {}).at("body").is_null());
}

// Written straight to text for the plugins (append_request_headers): the same JSON as the object
// functions get in an http event, whichever way it takes.
TEST(HttpEventData, HeadersWrittenAsTextAreTheJsonOfTheirObject) {
  const auto same = [](const net::Request& request) {
    std::string text;
    append_request_headers(text, request);
    EXPECT_EQ(text, boost::json::serialize(request_headers(request)));
  };
  auto request = request_for(net::http::verb::get, "/x");
  request.insert("x-quote", "say \"hi\" \\ \x01");
  request.insert("accept-language", "fr-CH, fr;q=0.9");
  same(request);
  request.insert("X-QUOTE", "again");  // a repeated name: the values are joined
  same(request);
  std::string joined;
  append_request_headers(joined, request);
  EXPECT_EQ(boost::json::parse(joined).at("X-Quote"), "say \"hi\" \\ \x01, again");
  auto many = request_for(net::http::verb::get, "/x");
  for (int i = 0; i < 40; ++i) many.insert("x-h" + std::to_string(i), std::to_string(i));
  same(many);
  same(net::Request{});
}

TEST(HttpEventData, HeaderNamesAreCanonical) {
  EXPECT_EQ(canonical_header_name("content-type"), "Content-Type");
  EXPECT_EQ(canonical_header_name("X-AMZ-DATE"), "X-Amz-Date");
  EXPECT_EQ(canonical_header_name("event"), "Event");
}

TEST(Cors, OriginPatternsMatchWithWildcards) {
  model::Cors cors;
  cors.origins = {"http://*.example.com", "https://exact.test"};
  EXPECT_TRUE(origin_allowed(cors, "http://app.example.com"));
  EXPECT_TRUE(origin_allowed(cors, "http://a.b.example.com"));
  EXPECT_TRUE(origin_allowed(cors, "HTTPS://EXACT.TEST"));
  EXPECT_FALSE(origin_allowed(cors, "http://example.com.evil.test"));
  EXPECT_FALSE(origin_allowed(cors, "https://exact.test.evil"));
  EXPECT_TRUE(origin_allowed(model::Cors{}, "http://anything.test"));
}

TEST(Cors, CredentialedResponsesEchoTheOrigin) {
  model::Cors cors;
  cors.allow_credentials = true;
  net::Response response{net::http::status::ok, 11};
  add_cors_headers(response, cors, "http://app.test");
  EXPECT_EQ(response[net::http::field::access_control_allow_origin], "http://app.test");
  EXPECT_EQ(response[net::http::field::access_control_allow_credentials], "true");

  net::Response open{net::http::status::ok, 11};
  add_cors_headers(open, model::Cors{}, "http://app.test");
  EXPECT_EQ(open[net::http::field::access_control_allow_origin], "*");
}

TEST(Cors, PreflightChecksMethodAndHeaders) {
  auto preflight = request_for(net::http::verb::options, "/x");
  preflight.set(net::http::field::origin, "http://app.test");
  preflight.set(net::http::field::access_control_request_method, "GET");
  preflight.set(net::http::field::access_control_request_headers, "content-type, accept");
  const auto allowed = preflight_response(model::Cors{}, preflight);
  EXPECT_EQ(allowed[net::http::field::access_control_allow_origin], "*");
  EXPECT_EQ(allowed[net::http::field::access_control_allow_methods], "GET");

  preflight.set(net::http::field::access_control_request_headers, "x-secret");
  EXPECT_EQ(preflight_response(model::Cors{}, preflight).count(net::http::field::access_control_allow_origin), 0U);
  preflight.set(net::http::field::access_control_request_method, "DELETE");
  preflight.erase(net::http::field::access_control_request_headers);
  EXPECT_EQ(preflight_response(model::Cors{}, preflight).count(net::http::field::access_control_allow_origin), 0U);
}

}  // namespace
}  // namespace eg::events
