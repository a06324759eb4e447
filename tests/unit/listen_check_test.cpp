// What -listen-address stands for (app/listen_check.h): an IP address as it is, a host name resolved,
// loopback only when each address is, and every address checked for a port in use.

#include "app/listen_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace eg::app {
namespace {

namespace asio = boost::asio;
using asio::ip::make_address;

TEST(ListenAddress, AnIpAddressIsTakenAsItIs) {
  EXPECT_EQ(resolve_listen_address("0.0.0.0"), std::vector{make_address("0.0.0.0")});
  EXPECT_EQ(resolve_listen_address("::1"), std::vector{make_address("::1")});
}

TEST(ListenAddress, LocalhostResolvesToLoopbackAddressesOnly) {
  const auto addresses = resolve_listen_address("localhost");
  ASSERT_FALSE(addresses.empty());
  EXPECT_NE(std::find(addresses.begin(), addresses.end(), make_address("127.0.0.1")), addresses.end());
  EXPECT_TRUE(only_loopback(addresses));
}

TEST(ListenAddress, ANameThatDoesNotResolveNamesTheFlagAndTheName) {
  try {
    resolve_listen_address("no-such-host.invalid");
    FAIL() << "resolved";
  } catch (const ListenError& error) {
    EXPECT_NE(
        std::string(error.what()).find("-listen-address no-such-host.invalid: the name does not resolve"),
        std::string::npos)
        << error.what();
  }
}

// Decides whether a cluster gateway without keys warns that anyone may change its routing.
TEST(ListenAddress, IsLoopbackOnlyWhenEachAddressIs) {
  EXPECT_TRUE(only_loopback({make_address("127.0.0.1"), make_address("::1")}));
  EXPECT_TRUE(only_loopback({make_address("127.1.2.3")}));
  EXPECT_FALSE(only_loopback({make_address("127.0.0.1"), make_address("192.0.2.1")}));
  EXPECT_FALSE(only_loopback({make_address("0.0.0.0")}));
  EXPECT_FALSE(only_loopback({make_address("::")}));
  EXPECT_FALSE(only_loopback({})) << "not resolved: open";
}

TEST(ListenAddress, APortInUseOnAnyOfTheAddressesIsFound) {
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, asio::ip::tcp::endpoint(make_address("::1"), 0));
  Options options;
  options.listen_ips = {make_address("127.0.0.1"), make_address("::1")};
  options.config_port = 0;
  options.events_port = taken.local_endpoint().port();
  try {
    check_ports_free(options);
    FAIL() << "port " << options.events_port << " on ::1 was found free";
  } catch (const ListenError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("the Events API cannot listen on ::1 port " + std::to_string(options.events_port) +
                        ": the port is in use"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace eg::app
