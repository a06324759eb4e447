#include "net/network_list.h"

#include <gtest/gtest.h>

#include <string>

namespace eg::net {
namespace {

NetworkList parsed(const std::string& list) {
  std::string error;
  auto networks = NetworkList::parse(list, error);
  EXPECT_TRUE(networks) << error;
  return networks ? *networks : NetworkList{};
}

std::optional<std::string> network_of(const NetworkList& networks, const std::string& address) {
  return networks.network_of(boost::asio::ip::make_address(address));
}

TEST(NetworkList, TheDefaultHoldsTheCloudMetadataAddresses) {
  const auto networks = parsed("169.254.169.254/32,fd00:ec2::254/128");
  EXPECT_EQ(network_of(networks, "169.254.169.254"), "169.254.169.254/32");
  EXPECT_EQ(network_of(networks, "fd00:ec2::254"), "fd00:ec2::254/128");
  EXPECT_FALSE(network_of(networks, "169.254.169.253"));
  EXPECT_FALSE(network_of(networks, "127.0.0.1"));
  EXPECT_FALSE(network_of(networks, "::1"));
}

TEST(NetworkList, AnIpv4AddressWrittenAsIpv6IsInItsNetwork) {
  const auto networks = parsed("169.254.0.0/16");
  EXPECT_EQ(network_of(networks, "::ffff:169.254.169.254"), "169.254.0.0/16");
  EXPECT_EQ(network_of(networks, "::ffff:a9fe:a9fe"), "169.254.0.0/16");
}

TEST(NetworkList, NetworksAreNormalizedAndBareAddressesAreOneAddress) {
  const auto networks = parsed(" 10.1.2.3/8 , 192.168.1.1, fe80::1 ,");
  EXPECT_EQ(network_of(networks, "10.200.0.1"), "10.0.0.0/8");
  EXPECT_EQ(network_of(networks, "192.168.1.1"), "192.168.1.1/32");
  EXPECT_FALSE(network_of(networks, "192.168.1.2"));
  EXPECT_EQ(network_of(networks, "fe80::1"), "fe80::1/128");
  EXPECT_EQ(network_of(networks, "fe80::1%1"), "fe80::1/128");  // a zone changes no address
  EXPECT_TRUE(parsed("").empty());
  EXPECT_TRUE(parsed(" , ").empty());
}

TEST(NetworkList, AnItemThatIsNoNetworkIsNamed) {
  for (const std::string item : {"10.0.0.0/33", "example.com", "10.0.0/8", "::1/129", "10.0.0.0/-1"}) {
    std::string error;
    EXPECT_FALSE(NetworkList::parse("127.0.0.0/8," + item, error)) << item;
    EXPECT_NE(error.find("\"" + item + "\" is not a network"), std::string::npos) << error;
  }
}

TEST(NetworkList, AHostIsCheckedByEveryAddressItsNameResolvesTo) {
  const auto loopback = parsed("127.0.0.0/8,::1");
  EXPECT_EQ(loopback.network_of_host("127.0.0.2"), "127.0.0.0/8");
  EXPECT_EQ(loopback.network_of_host("::1"), "::1/128");
  EXPECT_TRUE(loopback.network_of_host("localhost"));
  EXPECT_FALSE(parsed("10.0.0.0/8").network_of_host("localhost"));
  EXPECT_FALSE(loopback.network_of_host("name.invalid"));  // RFC 6761: never resolves
}

TEST(NetworkList, TheDenialNamesHostNetworkAndFlag) {
  EXPECT_EQ(describe_denial("metadata.internal", "169.254.169.254/32"),
            "metadata.internal is on network 169.254.169.254/32, which functions may not be called on "
            "(-function-deny-networks)");
}

}  // namespace
}  // namespace eg::net
