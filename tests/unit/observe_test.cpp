// The console's observers in isolation: the event catalog (bounds, the merge of per-thread shards, the
// sample's refresh) and the traffic tap (nothing published without watchers; full queues drop and count).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "observe/event_catalog.h"
#include "observe/traffic_tap.h"

namespace eg::observe {
namespace {

std::function<std::string()> sample_of(std::string text, int* calls = nullptr) {
  return [text = std::move(text), calls] {
    if (calls != nullptr) ++*calls;
    return text;
  };
}

TEST(EventCatalog, CountsEachNameOfASpaceWithItsLastTimeAndSample) {
  EventCatalog catalog;
  catalog.record("a", "user.created", 1000, sample_of("{\"n\":1}"));
  catalog.record("a", "user.created", 3000, sample_of("{\"n\":2}"));
  catalog.record("a", "order.placed", 2000, sample_of("{}"));
  catalog.record("b", "user.created", 5000, sample_of("{}"));
  const auto read = catalog.read("a");
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.events[0].name, "order.placed");  // by name
  EXPECT_EQ(read.events[1].name, "user.created");
  EXPECT_EQ(read.events[1].count, 2u);
  EXPECT_EQ(read.events[1].last_seen_ms, 3000);
  EXPECT_EQ(read.events[1].sample, "{\"n\":2}");  // 2 s later: refreshed
  EXPECT_EQ(read.overflow, 0u);
  EXPECT_TRUE(catalog.read("c").events.empty());
}

TEST(EventCatalog, RefreshesASampleAtMostOncePerIntervalSoMostEventsCopyNothing) {
  EventCatalog catalog(CatalogLimits{.sample_refresh_ms = 1000});
  int calls = 0;
  for (int i = 0; i < 100; ++i) catalog.record("a", "tick", 10'000 + i, sample_of("{}", &calls));
  EXPECT_EQ(calls, 1);
  catalog.record("a", "tick", 11'000, sample_of("{\"late\":true}", &calls));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(catalog.read("a").events.at(0).sample, "{\"late\":true}");
}

TEST(EventCatalog, CutsASampleAtItsLimitNeverInsideAUtf8Sequence) {
  EventCatalog catalog(CatalogLimits{.sample_bytes = 5});
  catalog.record("a", "e", 1, sample_of("abcd\xC3\xA9xyz"));  // é straddles the cut
  const auto entry = catalog.read("a").events.at(0);
  EXPECT_EQ(entry.sample, "abcd");
  EXPECT_TRUE(entry.sample_truncated);
  EXPECT_EQ(cut_at_utf8_boundary("abc", 5), "abc");
}

TEST(EventCatalog, NamesAndSpacesBeyondItsRoomAreCountedNeverKept) {
  EventCatalog catalog(CatalogLimits{.names_per_space = 2, .spaces = 2});
  for (const auto* name : {"one", "two", "three", "four"}) catalog.record("a", name, 1, sample_of("{}"));
  catalog.record("a", "one", 2, sample_of("{}"));  // a known name still counts
  catalog.record("b", "x", 1, sample_of("{}"));
  catalog.record("c", "x", 1, sample_of("{}"));  // a third space: no room
  const auto read = catalog.read("a");
  ASSERT_EQ(read.events.size(), 2u);
  EXPECT_EQ(read.overflow, 2u);
  EXPECT_EQ(read.unlisted_spaces, 1u);
  EXPECT_TRUE(catalog.read("c").events.empty());
}

TEST(EventCatalog, MergesTheShardsOfEveryThreadThatRecorded) {
  EventCatalog catalog(CatalogLimits{.names_per_space = 3});
  catalog.record("a", "shared", 1000, sample_of("{\"from\":\"main\"}"));
  catalog.record("a", "main.only", 1000, sample_of("{}"));
  std::thread([&] {
    catalog.record("a", "shared", 5000, sample_of("{\"from\":\"thread\"}"));
    catalog.record("a", "thread.one", 1, sample_of("{}"));
    catalog.record("a", "thread.two", 1, sample_of("{}"));
  }).join();
  const auto read = catalog.read("a");
  // Four names in all, room for three: the union is cut, the rest is overflow.
  ASSERT_EQ(read.events.size(), 3u);
  EXPECT_EQ(read.overflow, 1u);
  const auto shared = std::find_if(read.events.begin(), read.events.end(),
                                   [](const auto& entry) { return entry.name == "shared"; });
  ASSERT_NE(shared, read.events.end());
  EXPECT_EQ(shared->count, 2u);
  EXPECT_EQ(shared->last_seen_ms, 5000);
  EXPECT_EQ(shared->sample, "{\"from\":\"thread\"}");  // the newest
}

// What the Events API's feeds do (events/console_feed.cpp): a line started, its JSON, published.
void publish(TrafficTap& tap, std::string_view space, std::string_view kind, std::string_view json) {
  auto line = TrafficTap::start_line(kind);
  line.append(json);
  tap.publish_line(space, std::move(line));
}

TEST(TrafficTap, PublishesNothingAndCostsOneLoadWithoutWatchers) {
  TrafficTap tap;
  EXPECT_FALSE(tap.watched());
  EXPECT_FALSE(tap.watching("a"));
  publish(tap, "a", "received", "{}");  // nobody to queue it for
  auto watch = tap.watch("a");
  ASSERT_NE(watch, nullptr);
  EXPECT_EQ(watch->watcher().take(), "");
}

TEST(TrafficTap, QueuesServerSentEventLinesForTheWatchersOfTheirSpaceOnly) {
  TrafficTap tap;
  auto a = tap.watch("a");
  auto b = tap.watch("b");
  EXPECT_TRUE(tap.watched());
  EXPECT_TRUE(tap.watching("a"));
  EXPECT_FALSE(tap.watching("c"));
  publish(tap, "a", "received", "{\"n\":1}");
  publish(tap, "a", "call", "{\"n\":2}");
  EXPECT_EQ(a->watcher().take(), "event: received\ndata: {\"n\":1}\n\nevent: call\ndata: {\"n\":2}\n\n");
  EXPECT_EQ(a->watcher().take(), "");
  EXPECT_EQ(b->watcher().take(), "");
}

TEST(TrafficTap, AFullQueueDropsAndCountsInsteadOfGrowing) {
  TrafficTap tap(TapLimits{.queue_lines = 3, .queue_bytes = 1024});
  auto watch = tap.watch("a");
  for (int i = 0; i < 10; ++i) publish(tap, "a", "call", "{}");
  EXPECT_EQ(watch->watcher().dropped(), 7u);
  const auto taken = watch->watcher().take();
  EXPECT_EQ(std::count(taken.begin(), taken.end(), '\n'), 9);  // three lines of three newlines
  publish(tap, "a", "call", "{}");  // room again
  EXPECT_EQ(watch->watcher().dropped(), 7u);

  TrafficTap small(TapLimits{.queue_lines = 100, .queue_bytes = 40});
  auto bytes = small.watch("a");
  publish(small, "a", "call", std::string(10, 'x'));  // 32 bytes with its framing
  publish(small, "a", "call", std::string(10, 'x'));  // would pass 40
  EXPECT_EQ(bytes->watcher().dropped(), 1u);
}

TEST(TrafficTap, RefusesWatchersPastItsCapAndForgetsThoseThatLeave) {
  TrafficTap tap(TapLimits{.watchers = 2});
  auto first = tap.watch("a");
  auto second = tap.watch("a");
  EXPECT_EQ(tap.watch("a"), nullptr);
  second.reset();
  EXPECT_EQ(tap.watcher_count(), 1u);
  EXPECT_NE(tap.watch("b"), nullptr);  // a temporary: unwatched at once
  first.reset();
  EXPECT_FALSE(tap.watched());
}

}  // namespace
}  // namespace eg::observe
