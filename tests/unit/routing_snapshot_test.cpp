#include "routing/snapshot.h"

#include <gtest/gtest.h>

#include "store/keys.h"

namespace eg::routing {
namespace {

store::WatchEvent put(const std::string& key, const boost::json::object& value, std::int64_t revision) {
  return {store::WatchEvent::Type::Put,
          store::KeyValue{key, boost::json::serialize(value), revision, revision, 1}};
}

store::WatchEvent remove(const std::string& key, std::int64_t revision) {
  return {store::WatchEvent::Type::Delete, store::KeyValue{key, "", 0, revision, 0}};
}

boost::json::object function_json(const std::string& id) {
  return {{"space", "default"}, {"functionId", id}, {"type", "http"}, {"provider", {{"url", "http://127.0.0.1/"}}}};
}

boost::json::object http_subscription(const std::string& function_id, const std::string& path) {
  return {{"space", "default"}, {"subscriptionId", "http,GET," + path}, {"event", "http"},
          {"functionId", function_id}, {"path", path}, {"method", "GET"}};
}

boost::json::object custom_subscription(const std::string& event, const std::string& function_id) {
  return {{"space", "default"}, {"subscriptionId", event + "," + function_id + ",%2Fteam"}, {"event", event},
          {"functionId", function_id}, {"path", "/team"}};
}

TEST(ConfigState, BuildsEveryKindOfRoute) {
  ConfigState state;
  state.apply({put(store::keys::function("default", "f"), function_json("f"), 2),
               put(store::keys::subscription("default", "s1"), http_subscription("f", "/users/:id"), 3),
               put(store::keys::subscription("default", "s2"), custom_subscription("user.created", "f"), 4),
               put(store::keys::subscription("default", "s3"),
                   {{"space", "default"}, {"subscriptionId", "invoke,f,%2F"}, {"event", "invoke"},
                    {"functionId", "f"}, {"path", "/"}},
                   5)});
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->revision(), 5);
  ASSERT_NE(snapshot->find_function("default", "f"), nullptr);
  const auto match = snapshot->match_http("GET", "/users/7");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->value->function_id, "f");
  EXPECT_EQ(match->params, (PathParams{{"id", "7"}}));
  EXPECT_FALSE(snapshot->match_http("POST", "/users/7"));
  EXPECT_EQ(snapshot->subscribers("/team", "user.created").size(), 1U);
  EXPECT_TRUE(snapshot->subscribers("/other", "user.created").empty());
  EXPECT_EQ(snapshot->system_event_subscribers("user.created").size(), 1U);
  EXPECT_TRUE(snapshot->has_invoke_subscription("default", "f"));
  EXPECT_FALSE(snapshot->has_invoke_subscription("other", "f"));
}

TEST(ConfigState, ReplayedAndStaleEventsChangeNothing) {
  ConfigState state;
  const auto key = store::keys::subscription("default", "s1");
  state.apply({put(key, http_subscription("f", "/a"), 2), remove(key, 3)});
  state.apply({put(key, http_subscription("f", "/a"), 2)});  // replayed after its delete
  EXPECT_FALSE(state.build()->match_http("GET", "/a"));
  state.apply({put(key, http_subscription("f", "/b"), 4), put(key, http_subscription("f", "/a"), 2)});
  EXPECT_TRUE(state.build()->match_http("GET", "/b"));
  EXPECT_FALSE(state.build()->match_http("GET", "/a"));
}

TEST(ConfigState, ResetReplacesEverything) {
  ConfigState state;
  state.apply({put(store::keys::function("default", "old"), function_json("old"), 2)});
  store::RangeResult everything;
  everything.revision = 9;
  everything.kvs.push_back(put(store::keys::function("default", "new"), function_json("new"), 8).kv);
  state.reset(everything);
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->revision(), 9);
  EXPECT_EQ(snapshot->find_function("default", "old"), nullptr);
  EXPECT_NE(snapshot->find_function("default", "new"), nullptr);
}

TEST(SnapshotHolder, ReadersSeeEachPublishedSnapshot) {
  SnapshotHolder holder;
  SnapshotHolder::Reader reader(holder);
  EXPECT_EQ(reader.current().revision(), 0);
  ConfigState state;
  state.apply({put(store::keys::function("default", "f"), function_json("f"), 7)});
  holder.publish(state.build());
  EXPECT_EQ(reader.current().revision(), 7);
}

}  // namespace
}  // namespace eg::routing
