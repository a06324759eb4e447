#pragma once
// Networks in CIDR notation ("169.254.169.254/32,10.0.0.0/8,fd00:ec2::254/128"), and whether an
// address lies in one of them: the egress policy of function calls (-function-deny-networks,
// docs/security.md). An IPv4 address written as IPv6 (::ffff:169.254.169.254) is the IPv4 address, so
// no spelling of an address escapes its network.

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::net {

class NetworkList {
 public:
  NetworkList() = default;

  // The networks of a comma-separated list (blanks around items allowed, "" for none), or nothing with
  // `error` naming the item that is no network. A bare address is the network of that one address.
  static std::optional<NetworkList> parse(std::string_view list, std::string& error);

  // The network that holds `address`, as parse() normalized it ("169.254.169.254/32"), or nothing.
  std::optional<std::string> network_of(const boost::asio::ip::address& address) const;
  // The network that holds `host` (an address, or a name resolved now, blocking: for the Configuration
  // API's thread, never an event loop's), or any address the name resolves to; nothing when none does,
  // or the name does not resolve (the check when calls are made still applies).
  std::optional<std::string> network_of_host(std::string_view host) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

// Why a call to `host` was not made: its address is on `network`.
std::string describe_denial(std::string_view host, std::string_view network);

}  // namespace eg::net
