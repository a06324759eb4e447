#include "net/network_list.h"

#include <netdb.h>
#include <sys/socket.h>

#include <memory>

#include "common/text.h"

namespace eg::net {
namespace asio = boost::asio;

namespace {

// "a.b.c.d" and "x::y" without a prefix length stand for one address.
std::string with_prefix(std::string_view item) {
  if (item.find('/') != std::string_view::npos) return std::string(item);
  return std::string(item) + (item.find(':') != std::string_view::npos ? "/128" : "/32");
}

}  // namespace

std::optional<NetworkList> NetworkList::parse(std::string_view list, std::string& error) {
  NetworkList networks;
  for (const auto item : common::split_list(list)) {
    if (item.empty()) continue;
    const auto text = with_prefix(item);
    boost::system::error_code failed;
    if (text.find(':') == std::string::npos) {
      const auto network = asio::ip::make_network_v4(text, failed);
      if (!failed) networks.v4_.push_back(network.canonical());
    } else {
      const auto network = asio::ip::make_network_v6(text, failed);
      if (!failed) networks.v6_.push_back(network.canonical());
    }
    if (failed) {
      error = "\"" + std::string(item) +
              "\" is not a network: write an address, or an address and a prefix length "
              "(169.254.169.254/32, 10.0.0.0/8, fd00:ec2::254/128)";
      return std::nullopt;
    }
  }
  return networks;
}

std::optional<std::string> NetworkList::network_of(const asio::ip::address& address) const {
  auto candidate = address;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    candidate = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (candidate.is_v4()) {
    const asio::ip::network_v4 host(candidate.to_v4(), 32);
    for (const auto& network : v4_) {
      if (host == network || host.is_subnet_of(network)) return network.to_string();
    }
    return std::nullopt;
  }
  const asio::ip::network_v6 host(asio::ip::address_v6(candidate.to_v6().to_bytes()), 128);  // without a zone
  for (const auto& network : v6_) {
    if (host == network || host.is_subnet_of(network)) return network.to_string();
  }
  return std::nullopt;
}

std::optional<std::string> NetworkList::network_of_host(std::string_view host) const {
  if (empty()) return std::nullopt;
  boost::system::error_code not_an_address;
  const auto address = asio::ip::make_address(host, not_an_address);
  if (!not_an_address) return network_of(address);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(std::string(host).c_str(), nullptr, &hints, &found) != 0) return std::nullopt;
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> results(found, &freeaddrinfo);
  for (const auto* entry = found; entry != nullptr; entry = entry->ai_next) {
    std::optional<std::string> network;
    if (entry->ai_family == AF_INET) {
      const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      network = network_of(asio::ip::address_v4(ntohl(ipv4->sin_addr.s_addr)));
    } else if (entry->ai_family == AF_INET6) {
      const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr);
      asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(ipv6->sin6_addr.s6_addr), std::end(ipv6->sin6_addr.s6_addr), bytes.begin());
      network = network_of(asio::ip::address_v6(bytes));
    }
    if (network) return network;
  }
  return std::nullopt;
}

std::string describe_denial(std::string_view host, std::string_view network) {
  return std::string(host) + " is on network " + std::string(network) +
         ", which functions may not be called on (-function-deny-networks)";
}

}  // namespace eg::net
