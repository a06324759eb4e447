// go-plugin's handshake line as the gateway reads it (src/plugin/handshake.h), and the names plugins
// are known by.

#include <gtest/gtest.h>

#include "plugin/handshake.h"
#include "plugin/plugin_host.h"

namespace {

using eg::plugin::parse_handshake;
using eg::plugin::PluginAddress;

std::string target_of(std::string_view line) {
  const auto parsed = parse_handshake(line);
  if (const auto* refusal = std::get_if<std::string>(&parsed)) return "refused: " + *refusal;
  return std::get<PluginAddress>(parsed).grpc_target;
}

std::string refusal_of(std::string_view line) {
  const auto parsed = parse_handshake(line);
  const auto* refusal = std::get_if<std::string>(&parsed);
  return refusal != nullptr ? *refusal : "accepted: " + std::get<PluginAddress>(parsed).grpc_target;
}

TEST(PluginHandshake, UnixSocketsAndLoopbackTcpAreGrpcTargets) {
  EXPECT_EQ(target_of("1|1|unix|/tmp/plugin123|grpc"), "unix:/tmp/plugin123");
  EXPECT_EQ(target_of("1|1|tcp|127.0.0.1:41235|grpc"), "ipv4:127.0.0.1:41235");
  EXPECT_EQ(target_of("1|1|tcp|[::1]:41235|grpc"), "ipv6:[::1]:41235");
  EXPECT_EQ(target_of("1|1|tcp|::1:41235|grpc"), "ipv6:[::1]:41235");
}

TEST(PluginHandshake, GoPluginsSixthFieldAndLineEndsAreAccepted) {
  // go-plugin always prints the server certificate field, empty without automatic mTLS.
  EXPECT_EQ(target_of("1|1|unix|/tmp/plugin123|grpc|\n"), "unix:/tmp/plugin123");
  EXPECT_EQ(target_of("1|1|unix|/tmp/plugin123|grpc\r\n"), "unix:/tmp/plugin123");
  EXPECT_EQ(target_of("1|1|unix|/tmp/plugin123|grpc||false"), "unix:/tmp/plugin123");
}

TEST(PluginHandshake, TheOriginalsNetRpcPluginsAreRefusedWithTheWayOut) {
  const auto refusal = refusal_of("1|1|unix|/tmp/plugin123|netrpc");
  EXPECT_NE(refusal.find("netrpc"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("gRPC mode"), std::string::npos) << refusal;
}

TEST(PluginHandshake, OtherVersionsNetworksAndAddressesAreRefused) {
  EXPECT_NE(refusal_of("2|1|unix|/tmp/p|grpc").find("core protocol 2"), std::string::npos);
  EXPECT_NE(refusal_of("1|2|unix|/tmp/p|grpc").find("plugin protocol version 2"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|udp|127.0.0.1:1|grpc").find("network \"udp\""), std::string::npos);
  EXPECT_NE(refusal_of("1|1|unix|relative/sock|grpc").find("not an absolute path"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|127.0.0.1|grpc").find("not host:port"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|127.0.0.1:0|grpc").find("not host:port"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|127.0.0.1:99999|grpc").find("not host:port"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|localhost:80|grpc").find("not an IP address"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|unix|/tmp/p|grpc|MIIBcert").find("TLS server certificate"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|unix|/tmp/p|grpc||true").find("multiplexing"), std::string::npos);
}

TEST(PluginHandshake, APluginOffTheLoopbackIsRefused) {
  // Every event passes through a plugin: it may not listen where others can reach it.
  EXPECT_NE(refusal_of("1|1|tcp|0.0.0.0:41235|grpc").find("not on loopback"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|10.0.0.7:41235|grpc").find("not on loopback"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|[::1%1f.]:1|grpc").find("IPv6 zone"), std::string::npos);
  EXPECT_NE(refusal_of("1|1|tcp|[::1%lo]:41235|grpc").find("IPv6 zone"), std::string::npos);
}

TEST(PluginHandshake, WhatIsNotAHandshakeSaysWhatWasExpected) {
  for (const auto* line : {"", "hello", "1|1|unix|/tmp/p", "1|1|unix|/tmp/p|grpc|||extra"}) {
    EXPECT_NE(refusal_of(line).find("CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL"), std::string::npos)
        << line;
  }
}

TEST(PluginNames, AreFileNamesNumberedWhenTheyRepeat) {
  EXPECT_EQ(eg::plugin::plugin_names({"/opt/a/authorizer", "audit.py", "/opt/b/authorizer", "./authorizer"}),
            (std::vector<std::string>{"authorizer", "audit.py", "authorizer#2", "authorizer#3"}));
}

}  // namespace
