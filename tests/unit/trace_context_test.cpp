// W3C trace context (src/net/trace_context.h): which traceparent headers are passed on, the trace a
// request without one gets, and the context an event's JSON carries into the spool and back
// (src/events/event.h).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>

#include "events/event.h"
#include "net/trace_context.h"

namespace {

using eg::net::is_valid_traceparent;
using eg::net::trace_context_of;

constexpr const char* kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, AValidTraceparentAndItsTracestateArePassedOnUnchanged) {
  const auto trace = trace_context_of(kParent, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(trace.traceparent, kParent);
  EXPECT_EQ(trace.tracestate, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContext, ALaterVersionIsReadByVersion00sFieldsAndPassedOnWhole) {
  EXPECT_TRUE(is_valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_TRUE(is_valid_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-0a1b-2c"));
  EXPECT_EQ(trace_context_of("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-ab", "").traceparent,
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-ab");
  // What follows must go into headers and JSON as it is: lowercase hex and dashes only.
  EXPECT_FALSE(is_valid_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-\"x"));
  EXPECT_FALSE(is_valid_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what"));
}

TEST(TraceContext, MalformedTraceparentsAreRefused) {
  for (const auto* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",    // version 00 has nothing after
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // the forbidden version
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // separator
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",    // later version, no dash
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",     // not hex
       }) {
    EXPECT_FALSE(is_valid_traceparent(bad)) << bad;
  }
}

TEST(TraceContext, ARequestWithoutAValidOneStartsASampledTraceOfItsOwnAndDropsItsTracestate) {
  const auto first = trace_context_of("garbage", "congo=t61rcWkgMzE");
  const auto second = trace_context_of("", "");
  EXPECT_TRUE(std::regex_match(first.traceparent, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01")))
      << first.traceparent;
  EXPECT_TRUE(is_valid_traceparent(first.traceparent));
  EXPECT_TRUE(first.tracestate.empty());
  EXPECT_NE(first.trace_id(), second.trace_id());
}

eg::events::Event event_with(eg::net::TraceContext trace, boost::json::value data) {
  auto event = eg::events::make_json_event("user.created", std::move(data));
  event.provenance.trace = std::move(trace);
  return event;
}

TEST(TraceContext, TheEventsJsonCarriesItBeforeTheDataAndTheSpooledTextGivesItBack) {
  // A tracestate may hold quotes and backslashes, which JSON escapes; the data may hold the same keys.
  const eg::net::TraceContext trace{kParent, R"(vendor=a"b\c,other=1)"};
  const auto event = event_with(trace, boost::json::parse(R"({"traceparent":"00-x","tracestate":"y"})"));
  const auto text = event.serialize();
  const auto json = boost::json::parse(text).as_object();
  EXPECT_EQ(json.at("traceparent").as_string(), kParent);
  EXPECT_EQ(json.at("tracestate").as_string(), trace.tracestate);
  EXPECT_EQ(boost::json::value(event.to_json()), boost::json::parse(text));
  const auto read = eg::events::trace_context_in(text);
  EXPECT_EQ(read.traceparent, kParent);
  EXPECT_EQ(read.tracestate, trace.tracestate);
}

TEST(TraceContext, ATracestateWithBytesJsonEscapesOtherwiseIsReadBackAsItWas) {
  const eg::net::TraceContext trace{kParent, "vendor=caf\xc3\xa9\t\"q\""};
  const auto text = event_with(trace, nullptr).serialize();
  EXPECT_EQ(eg::events::trace_context_in(text).tracestate, trace.tracestate) << text;
  EXPECT_EQ(eg::events::event_name_in(text), "user.created");
}

TEST(TraceContext, AnEventWithoutOneHasNoneInItsJsonAndGivesNoneBack) {
  const auto event = event_with({}, boost::json::parse(R"({"traceparent":")" + std::string(kParent) + "\"}"));
  const auto text = event.serialize();
  EXPECT_FALSE(boost::json::parse(text).as_object().contains("traceparent"));
  EXPECT_TRUE(eg::events::trace_context_in(text).traceparent.empty());  // not the one in the data
}

}  // namespace
