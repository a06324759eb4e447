#include "net/header_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace eg::net {
namespace {

using namespace std::string_literals;

TEST(HeaderRules, NamesAreTokens) {
  EXPECT_TRUE(is_field_name("X-Custom"));
  EXPECT_TRUE(is_field_name("set-cookie"));
  EXPECT_TRUE(is_field_name("x!#$%&'*+-.^_`|~9"));
  EXPECT_FALSE(is_field_name(""));
  EXPECT_FALSE(is_field_name("X-A\r\nSet-Cookie"));
  EXPECT_FALSE(is_field_name("X-A:b"));
  EXPECT_FALSE(is_field_name("X A"));
  EXPECT_FALSE(is_field_name("X-\"A\""));
  EXPECT_FALSE(is_field_name("X-A\0"s));
  EXPECT_FALSE(is_field_name("X-\xc3\xa9"));
}

TEST(HeaderRules, ValuesHoldNoControlCharacters) {
  EXPECT_TRUE(is_field_value("b; path=/"));
  EXPECT_TRUE(is_field_value(""));
  EXPECT_TRUE(is_field_value("tab\tinside"));
  EXPECT_TRUE(is_field_value("caf\xc3\xa9"));  // obs-text
  EXPECT_FALSE(is_field_value("b\r\nSet-Cookie: evil=1"));
  EXPECT_FALSE(is_field_value("b\nSet-Cookie: evil=1"));
  EXPECT_FALSE(is_field_value("b\rx"));
  EXPECT_FALSE(is_field_value("b\0x"s));
  EXPECT_FALSE(is_field_value("bell\x07"));
  EXPECT_FALSE(is_field_value("del\x7f"));
}

TEST(HeaderRules, FramingAndConnectionFieldsAreTheServers) {
  for (const auto* name : {"Content-Length", "content-length", "Transfer-Encoding", "Connection", "Keep-Alive",
                           "Proxy-Connection", "TE", "Trailer", "Upgrade", "date"}) {
    EXPECT_TRUE(is_server_managed_field(name)) << name;
  }
  for (const auto* name : {"Content-Type", "Set-Cookie", "Cache-Control", "X-Content-Length"}) {
    EXPECT_FALSE(is_server_managed_field(name)) << name;
  }
}

TEST(HeaderRules, WhatBrokeThemIsLoggedPrintably) {
  EXPECT_EQ(printable_for_log("b\r\nSet-Cookie: evil=1"), "b\\x0d\\x0aSet-Cookie: evil=1");
  EXPECT_EQ(printable_for_log("caf\xc3\xa9\x7f"s), "caf\\xc3\\xa9\\x7f");
  EXPECT_EQ(printable_for_log(std::string(300, 'a')), std::string(256, 'a') + "...");
}

}  // namespace
}  // namespace eg::net
