#pragma once
// A UDP endpoint (IPv4 or IPv6 address and port), as configured and as seen on received datagrams.

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/platform/result.hpp"

namespace ferry::dp {

class endpoint {
 public:
  endpoint() noexcept;

  // Parses "192.0.2.1:7700" or "[2001:db8::1]:7700". Numeric addresses only: a data plane must not wait on DNS.
  static platform::result<endpoint> parse(std::string_view text);

  // From an address the kernel filled in (recvmmsg); families other than IPv4/IPv6 give an unspecified endpoint.
  static endpoint from_sockaddr(const sockaddr* address, socklen_t length) noexcept;

  const sockaddr* address() const noexcept { return &_address.any; }
  socklen_t length() const noexcept { return _length; }
  sa_family_t family() const noexcept { return _address.any.sa_family; }
  std::uint16_t port() const noexcept;
  bool specified() const noexcept { return _length != 0; }

  std::string to_string() const;

  // Same family and address, whatever the ports.
  bool same_host(const endpoint& other) const noexcept;

  friend bool operator==(const endpoint& a, const endpoint& b) noexcept;

 private:
  union {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } _address;
  socklen_t _length;
};

}  // namespace ferry::dp
