#include "ferry/dataplane/endpoint.hpp"

#include <gtest/gtest.h>

namespace ferry::dp {
namespace {

TEST(Endpoint, ParsesIpv4AndIpv6) {
  auto v4 = endpoint::parse("192.0.2.7:7700");
  ASSERT_TRUE(v4.ok()) << v4.err().message();
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->port(), 7700);
  EXPECT_EQ(v4->to_string(), "192.0.2.7:7700");

  auto v6 = endpoint::parse("[2001:db8::1]:65535");
  ASSERT_TRUE(v6.ok()) << v6.err().message();
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->port(), 65535);
  EXPECT_EQ(v6->to_string(), "[2001:db8::1]:65535");
}

TEST(Endpoint, RefusesWhatIsNotANumericAddressAndPort) {
  for (const char* text : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:7x",
                           "localhost:7700", "::1:7700", "[::1]7700", "[::1", "[127.0.0.1]:1", "300.0.0.1:1"}) {
    auto parsed = endpoint::parse(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.err().message().find(std::string("'") + text + "'"), std::string::npos);
    }
  }
}

TEST(Endpoint, ComparesAddressAndPort) {
  EXPECT_EQ(*endpoint::parse("127.0.0.1:1"), *endpoint::parse("127.0.0.1:1"));
  EXPECT_FALSE(*endpoint::parse("127.0.0.1:1") == *endpoint::parse("127.0.0.1:2"));
  EXPECT_FALSE(*endpoint::parse("127.0.0.1:1") == *endpoint::parse("127.0.0.2:1"));
  EXPECT_FALSE(*endpoint::parse("[::1]:1") == *endpoint::parse("127.0.0.1:1"));
  EXPECT_FALSE(endpoint().specified());
}

TEST(Endpoint, RoundTripsThroughSockaddr) {
  const endpoint original = *endpoint::parse("[::ffff:10.1.2.3]:9");
  const endpoint copy = endpoint::from_sockaddr(original.address(), original.length());
  EXPECT_EQ(copy, original);
  EXPECT_FALSE(endpoint::from_sockaddr(nullptr, 0).specified());
}

}  // namespace
}  // namespace ferry::dp
