#include "app/descriptor_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace eg::app {
namespace {

TEST(DescriptorLimit, EachApiMayHoldAQuarterOfTheDescriptors) {
  EXPECT_EQ(default_max_connections(1'048'576), 262'144u);
  EXPECT_EQ(default_max_connections(20'000), 5'000u);
  EXPECT_EQ(default_max_connections(1024), 256u);
  EXPECT_EQ(default_max_connections(3), 1u) << "at least one";
}

TEST(DescriptorLimit, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const auto raised = raise_descriptor_limit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(raised, after.rlim_cur);
  EXPECT_GE(after.rlim_cur, before.rlim_cur);
  if (before.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
  }
}

}  // namespace
}  // namespace eg::app
