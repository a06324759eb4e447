#include "routing/shared_parts.h"

#include <gtest/gtest.h>

#include <string>

namespace eg::routing {
namespace {

TEST(EditToken, ACopyGivesBothSidesNewTokens) {
  const EditToken original;
  const auto before = original.value();
  const EditToken copy = original;
  EXPECT_NE(original.value(), before);
  EXPECT_NE(copy.value(), before);
  EXPECT_NE(copy.value(), original.value());
}

// Tokens are plain numbers here: what matters is that the map is changed with a new one once a copy
// of it has been handed out, as RoutingSnapshot's EditToken ensures.
constexpr std::uint64_t kFirstEdit = 1;
constexpr std::uint64_t kSecondEdit = 2;

ShardedMap<int> map_with(int entries) {
  ShardedMap<int> map;
  for (int i = 0; i < entries; ++i) map.insert_or_assign("key" + std::to_string(i), i, kFirstEdit);
  return map;
}

TEST(ShardedMap, FindsWhatWasInserted) {
  auto map = map_with(1000);
  EXPECT_EQ(map.size(), 1000U);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(*map.find("key" + std::to_string(i)), i);
  EXPECT_EQ(map.find("key1000"), nullptr);
  map.insert_or_assign("key7", 70, kFirstEdit);
  EXPECT_EQ(*map.find("key7"), 70);
  EXPECT_EQ(map.size(), 1000U);
  EXPECT_TRUE(map.erase("key7", kFirstEdit));
  EXPECT_FALSE(map.erase("key7", kFirstEdit));
  EXPECT_EQ(map.find("key7"), nullptr);
  EXPECT_EQ(map.size(), 999U);
}

TEST(ShardedMap, EmptyMap) {
  ShardedMap<int> map;
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find("a"), nullptr);
  EXPECT_EQ(map.any(), nullptr);
  EXPECT_EQ(map.find_for_change("a", kFirstEdit), nullptr);
  EXPECT_FALSE(map.erase("a", kFirstEdit));
  map.insert_or_assign("a", 1, kFirstEdit);
  ASSERT_NE(map.any(), nullptr);
  EXPECT_EQ(*map.any(), 1);
  EXPECT_TRUE(map.erase("a", kFirstEdit));
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.any(), nullptr);
}

TEST(ShardedMap, ChangesWithANewTokenLeaveACopyAsItWas) {
  auto map = map_with(1000);
  const auto copy = map;
  map.insert_or_assign("key1", 10, kSecondEdit);
  EXPECT_TRUE(map.erase("key2", kSecondEdit));
  *map.find_for_change("key3", kSecondEdit) = 30;
  map.insert_or_assign("new", 1, kSecondEdit);

  EXPECT_EQ(*copy.find("key1"), 1);
  EXPECT_EQ(*copy.find("key2"), 2);
  EXPECT_EQ(*copy.find("key3"), 3);
  EXPECT_EQ(copy.find("new"), nullptr);
  EXPECT_EQ(copy.size(), 1000U);

  EXPECT_EQ(*map.find("key1"), 10);
  EXPECT_EQ(map.find("key2"), nullptr);
  EXPECT_EQ(*map.find("key3"), 30);
  EXPECT_EQ(*map.find("new"), 1);
  EXPECT_EQ(map.size(), 1000U);
  // Entries in shards no change touched are the same objects in both.
  int shared = 0;
  for (int i = 4; i < 1000; ++i) {
    const auto key = "key" + std::to_string(i);
    shared += map.find(key) == copy.find(key) ? 1 : 0;
  }
  EXPECT_GT(shared, 900);
}

}  // namespace
}  // namespace eg::routing
