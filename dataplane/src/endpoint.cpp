#include "ferry/dataplane/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ferry::dp {

endpoint::endpoint() noexcept : _address{}, _length(0) {}

platform::result<endpoint> endpoint::parse(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return platform::error(quoted + " is not [IPv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    bracketed = true;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return platform::error(quoted + " has no port (expected address:port)");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return platform::error(quoted + ": write an IPv6 address in brackets, as [2001:db8::1]:7700");
    }
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return platform::error(quoted + ": port must be a number from 0 to 65535");
  }
  const std::string host_string(host);
  endpoint result;
  if (!bracketed && inet_pton(AF_INET, host_string.c_str(), &result._address.v4.sin_addr) == 1) {
    result._address.v4.sin_family = AF_INET;
    result._address.v4.sin_port = htons(static_cast<std::uint16_t>(port));
    result._length = sizeof(sockaddr_in);
    return result;
  }
  if (bracketed && inet_pton(AF_INET6, host_string.c_str(), &result._address.v6.sin6_addr) == 1) {
    result._address.v6.sin6_family = AF_INET6;
    result._address.v6.sin6_port = htons(static_cast<std::uint16_t>(port));
    result._length = sizeof(sockaddr_in6);
    return result;
  }
  return platform::error(quoted + ": '" + host_string + "' is not a numeric " + (bracketed ? "IPv6" : "IPv4") +
                         " address (host names are not resolved)");
}

endpoint endpoint::from_sockaddr(const sockaddr* address, socklen_t length) noexcept {
  endpoint result;
  if (address == nullptr) return result;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    std::memcpy(&result._address.v4, address, sizeof(sockaddr_in));
    result._length = sizeof(sockaddr_in);
  } else if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    std::memcpy(&result._address.v6, address, sizeof(sockaddr_in6));
    result._length = sizeof(sockaddr_in6);
  }
  return result;
}

std::uint16_t endpoint::port() const noexcept {
  if (family() == AF_INET) return ntohs(_address.v4.sin_port);
  if (family() == AF_INET6) return ntohs(_address.v6.sin6_port);
  return 0;
}

std::string endpoint::to_string() const {
  char host[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &_address.v4.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &_address.v6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(port());
  }
  return "(unspecified)";
}

bool endpoint::same_host(const endpoint& other) const noexcept {
  if (family() != other.family()) return false;
  if (family() == AF_INET) return _address.v4.sin_addr.s_addr == other._address.v4.sin_addr.s_addr;
  if (family() == AF_INET6) {
    return std::memcmp(&_address.v6.sin6_addr, &other._address.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
  if (a._length != b._length || a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    return a._address.v4.sin_port == b._address.v4.sin_port &&
           a._address.v4.sin_addr.s_addr == b._address.v4.sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    return a._address.v6.sin6_port == b._address.v6.sin6_port &&
           std::memcmp(&a._address.v6.sin6_addr, &b._address.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return true;
}

}  // namespace ferry::dp
