// The DPDK backend against DPDK's software ports, with no NIC and no hugepages. The EAL is once per process, so
// every test here opens with the same arguments; each test hot-plugs a net_ring port of its own, whose rings loop
// tx queue i back to rx queue i. The test reaches the rings by name: it injects frames for ferry to receive and
// takes out the frames ferry sent before ferry's own receive() would.

#include <gtest/gtest.h>

#include "ferry/dataplane/io_port.hpp"

#if FERRY_HAVE_DPDK

#define ALLOW_EXPERIMENTAL_API 1  // rte_eth_dev_conf_get(), to see which offloads ferry turned on
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ferry/dataplane/placed.hpp"
#include "ferry/dataplane/udp_packet.hpp"
#include "support/bytes.hpp"
#include "support/child_process.hpp"

namespace ferry::dp {
namespace {

using ferry::testing::bytes;
using ferry::testing::same;

constexpr mac_address next_hop = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

// One EAL for the whole binary: a file prefix of its own so that parallel test processes do not meet, no shared
// config or telemetry files, and the first CPU this process may use as its only lcore.
const std::vector<std::string>& eal_args() {
  static const std::vector<std::string> args = [] {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    std::size_t cpu = 0;
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) {
      while (cpu < std::size_t{CPU_SETSIZE} && !CPU_ISSET(cpu, &cpus)) ++cpu;
    }
    return std::vector<std::string>{"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry",
                                    "--file-prefix=ferry-test-" + std::to_string(getpid()), "-l",
                                    std::to_string(cpu)};
  }();
  return args;
}

endpoint ep(std::string_view text) {
  auto parsed = endpoint::parse(text);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : endpoint();
}

backend_options options_for(std::uint16_t port, std::string_view listen = "192.0.2.10:7700") {
  backend_options options;
  options.choice = backend_choice::dpdk;
  options.listen = ep(listen);
  options.rx_ports = 1;
  options.tx_ports = 1;
  options.dpdk.eal_args = eal_args();
  options.dpdk.port = port;
  options.dpdk.next_hop_mac = next_hop;
  options.dpdk.mbufs = 2047;
  options.dpdk.rx_descriptors = 256;
  options.dpdk.tx_descriptors = 256;
  return options;
}

// Brings the EAL up the way ferry does (ferry owns the one rte_eal_init of the process): by opening a port that
// cannot exist, which initialises the EAL and then fails on the port.
bool eal_up() {
  static const bool up = [] {
    auto refused = open_dpdk_backend(options_for(RTE_MAX_ETHPORTS));
    EXPECT_FALSE(refused.ok());
    const std::string message = refused.ok() ? "" : refused.err().message();
    EXPECT_NE(message.find("no dpdk port"), std::string::npos) << message;
    return message.find("no dpdk port") != std::string::npos;
  }();
  return up;
}

// The EAL makes a runtime directory (/var/run/dpdk/<prefix>) even without shared config; an empty one per test
// process would pile up, so the last thing the binary does is remove it.
class remove_runtime_dir : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* dir = rte_eal_get_runtime_dir();  // empty when no test brought the EAL up
    if (dir != nullptr && dir[0] != '\0') ::rmdir(dir);
  }
};
[[maybe_unused]] ::testing::Environment* const runtime_dir_cleanup =
    ::testing::AddGlobalTestEnvironment(new remove_runtime_dir);

// Mbufs the test injects; ferry frees them back here after reading them.
rte_mempool* test_mbufs() {
  static rte_mempool* pool =
      rte_pktmbuf_pool_create("ferry_test_in", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

// A hot-plugged net_ring port of the test's own, with its 16 rings (ring i: rx queue i's input and tx queue i's
// output).
struct ring_port {
  std::uint16_t id = 0;
  std::vector<rte_ring*> rings;
};

std::optional<ring_port> make_ring_port() {
  if (!eal_up()) return std::nullopt;
  static int made = 0;
  const std::string name = "net_ring_ft" + std::to_string(made++);
  if (const int rc = rte_dev_probe(name.c_str()); rc != 0) {
    ADD_FAILURE() << "rte_dev_probe(" << name << "): " << rte_strerror(-rc);
    return std::nullopt;
  }
  ring_port port;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port.id) != 0) {
    ADD_FAILURE() << "no port named " << name;
    return std::nullopt;
  }
  for (int i = 0; i < 16; ++i) {
    const std::string ring = "ETH_RXTX" + std::to_string(i) + "_" + name;
    port.rings.push_back(rte_ring_lookup(ring.c_str()));
    if (port.rings.back() == nullptr) {
      ADD_FAILURE() << "no ring " << ring;
      return std::nullopt;
    }
  }
  return port;
}

std::unique_ptr<io_backend> open_on(const backend_options& options) {
  auto opened = open_dpdk_backend(options);
  if (!opened) {
    ADD_FAILURE() << opened.err().message();
    return nullptr;
  }
  EXPECT_EQ((*opened)->kind(), backend_kind::dpdk);
  return std::move(*opened);
}

placed<buffer_pool> make_pool(std::uint32_t count, std::uint32_t data_size = 2048) {
  auto pool = placed<buffer_pool>::create("test pool", platform::page_size::normal, count, data_size);
  if (!pool) ADD_FAILURE() << pool.err().message();
  return std::move(pool).value();
}

bytes text(std::string_view s) {
  const auto span = std::as_bytes(std::span(s.data(), s.size()));
  return bytes(span.begin(), span.end());
}

in_addr v4_of(const endpoint& e) {
  sockaddr_in address;
  std::memcpy(&address, e.address(), sizeof address);
  return address.sin_addr;
}

in6_addr v6_of(const endpoint& e) {
  sockaddr_in6 address;
  std::memcpy(&address, e.address(), sizeof address);
  return address.sin6_addr;
}

// A frame from `from` to `to`, built with DPDK's header structs and checksum functions rather than ferry's codec.
bytes udp_frame(const endpoint& from, const endpoint& to, const bytes& payload) {
  const bool v4 = to.family() == AF_INET;
  const std::size_t l3 = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  bytes frame(sizeof(rte_ether_hdr) + l3 + sizeof(rte_udp_hdr) + payload.size());
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame.data());
  eth->dst_addr = {{0x02, 0, 0, 0, 0, 0x10}};
  eth->src_addr = {{0x02, 0, 0, 0, 0, 0x20}};
  eth->ether_type = rte_cpu_to_be_16(v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  std::byte* l3_at = frame.data() + sizeof(rte_ether_hdr);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(l3_at + l3);
  udp->src_port = rte_cpu_to_be_16(from.port());
  udp->dst_port = rte_cpu_to_be_16(to.port());
  udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(sizeof(rte_udp_hdr) + payload.size()));
  udp->dgram_cksum = 0;
  std::memcpy(udp + 1, payload.data(), payload.size());
  if (v4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(l3_at);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(l3 + sizeof(rte_udp_hdr) + payload.size()));
    ip->packet_id = rte_cpu_to_be_16(1);
    ip->fragment_offset = 0;
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->hdr_checksum = 0;
    const in_addr source = v4_of(from);
    const in_addr destination = v4_of(to);
    std::memcpy(&ip->src_addr, &source, 4);
    std::memcpy(&ip->dst_addr, &destination, 4);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  } else {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(l3_at);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = udp->dgram_len;
    ip->proto = IPPROTO_UDP;
    ip->hop_limits = 64;
    const in6_addr source = v6_of(from);
    const in6_addr destination = v6_of(to);
    std::memcpy(ip->src_addr, &source, 16);
    std::memcpy(ip->dst_addr, &destination, 16);
    udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
  }
  return frame;
}

bytes arp_frame() {
  bytes frame(60);
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame.data());
  eth->dst_addr = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
  return frame;
}

// Puts frames into ring `ring` of the port, as a NIC would hand them to rx queue `ring`.
void inject(const ring_port& port, const std::vector<bytes>& frames, std::size_t ring = 0) {
  for (const bytes& frame : frames) {
    rte_mbuf* m = rte_pktmbuf_alloc(test_mbufs());
    ASSERT_NE(m, nullptr);
    char* data = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
    ASSERT_NE(data, nullptr);
    std::memcpy(data, frame.data(), frame.size());
    ASSERT_EQ(rte_ring_enqueue(port.rings[ring], m), 0);
  }
}

// Takes out (and frees) what ferry sent on tx queue `ring`, as bytes.
std::vector<bytes> take_sent(const ring_port& port, std::size_t ring = 0) {
  std::vector<bytes> frames;
  void* items[64];
  for (;;) {
    const unsigned got = rte_ring_dequeue_burst(port.rings[ring], items, 64, nullptr);
    if (got == 0) break;
    for (unsigned i = 0; i < got; ++i) {
      auto* m = static_cast<rte_mbuf*>(items[i]);
      EXPECT_EQ(m->nb_segs, 1);
      const auto* data = rte_pktmbuf_mtod(m, const std::byte*);
      frames.emplace_back(data, data + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
  }
  return frames;
}

// A datagram for send(): destination and a two-piece gather list over `payload`.
struct outgoing {
  outgoing(const endpoint& to, const bytes& payload) : destination(to), data(payload) {
    const std::size_t half = data.size() / 2;
    pieces[0] = {data.data(), half};
    pieces[1] = {data.data() + half, data.size() - half};
    message.msg_hdr = {};
    message.msg_hdr.msg_name = const_cast<sockaddr*>(destination.address());
    message.msg_hdr.msg_namelen = destination.length();
    message.msg_hdr.msg_iov = pieces;
    message.msg_hdr.msg_iovlen = 2;
  }
  outgoing(const outgoing&) = delete;
  outgoing& operator=(const outgoing&) = delete;

  endpoint destination;
  bytes data;
  iovec pieces[2];
  mmsghdr message;
};

std::uint32_t send_all(tx_port& tx, std::vector<std::unique_ptr<outgoing>>& frames) {
  std::vector<mmsghdr> messages;
  for (auto& f : frames) messages.push_back(f->message);
  return tx.send(messages.data(), static_cast<std::uint32_t>(messages.size()));
}

// Receives whatever is there, releasing nothing (the caller checks and releases).
std::vector<packet_buffer*> receive(rx_port& rx, buffer_pool& pool, std::uint32_t n = rx_port::max_burst) {
  std::vector<packet_buffer*> out(n);
  out.resize(rx.receive(pool, out.data(), n));
  return out;
}

TEST(DpdkBackend, RefusesListenAddressesItCannotServe) {
  // Checked before the EAL: a bad configuration is refused without touching DPDK.
  auto any = open_dpdk_backend(options_for(0, "0.0.0.0:7700"));
  ASSERT_FALSE(any.ok());
  EXPECT_NE(any.err().message().find("unspecified address"), std::string::npos) << any.err().message();
  auto any6 = open_dpdk_backend(options_for(0, "[::]:7700"));
  ASSERT_FALSE(any6.ok());
  EXPECT_NE(any6.err().message().find("unspecified address"), std::string::npos) << any6.err().message();
  auto zero = open_dpdk_backend(options_for(0, "192.0.2.10:0"));
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.err().message().find("port 0"), std::string::npos) << zero.err().message();
  backend_options none = options_for(0);
  none.listen = endpoint();
  auto unset = open_dpdk_backend(none);
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.err().message().find("dataplane.listen"), std::string::npos) << unset.err().message();
}

// The EAL can be brought up once per process, so a failed rte_eal_init() is tried in a process of its own: this
// binary again, running only FailedEalInitChild.
constexpr const char* eal_child_variable = "FERRY_TEST_FAILED_EAL_CHILD";

TEST(DpdkBackend, FailedEalInitIsAnErrorNotAnExit) {
  const std::string stem = "/tmp/ferry-dpdk-eal-child-" + std::to_string(getpid());
  ::setenv(eal_child_variable, "1", 1);
  ferry::testing::child_process child({"/proc/self/exe", "--gtest_filter=DpdkBackend.FailedEalInitChild"}, stem);
  ::unsetenv(eal_child_variable);
  ASSERT_TRUE(child.started());
  const auto code = child.wait_for(std::chrono::seconds(60));
  std::ifstream out(stem + ".out");
  const std::string output((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  ::unlink((stem + ".out").c_str());
  ::unlink((stem + ".err").c_str());
  ASSERT_TRUE(code.has_value()) << "the child did not finish";
  EXPECT_EQ(*code, 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;
}

TEST(DpdkBackend, FailedEalInitChild) {
  if (::getenv(eal_child_variable) == nullptr) GTEST_SKIP() << "run by FailedEalInitIsAnErrorNotAnExit";
  backend_options options = options_for(0);
  options.dpdk.eal_args = {"--help"};  // refused before the EAL is tried: DPDK would print and exit
  auto help = open_dpdk_backend(options);
  ASSERT_FALSE(help.ok());
  EXPECT_NE(help.err().message().find("'--help'"), std::string::npos) << help.err().message();
  options.dpdk.eal_args = {"--no-huge", "--no-pci", "--not-an-eal-option"};
  auto first = open_dpdk_backend(options);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.err().message().find("rte_eal_init refused eal_args '--no-huge --no-pci --not-an-eal-option'"),
            std::string::npos)
      << first.err().message();
  auto again = open_dpdk_backend(options);  // the EAL is not tried twice: the first failure is repeated
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.err().message().find("failed earlier"), std::string::npos) << again.err().message();
}

TEST(DpdkBackend, RefusesAMissingPortClearly) {
  ASSERT_TRUE(eal_up());
  auto refused = open_dpdk_backend(options_for(RTE_MAX_ETHPORTS - 1));
  ASSERT_FALSE(refused.ok());
  const std::string& message = refused.err().message();
  EXPECT_NE(message.find("no dpdk port " + std::to_string(RTE_MAX_ETHPORTS - 1)), std::string::npos) << message;
  EXPECT_NE(message.find("dataplane.dpdk.port"), std::string::npos) << message;
  EXPECT_NE(message.find("--vdev"), std::string::npos) << message;
}

TEST(DpdkBackend, MissingPortFallsBackWithANote) {
  // A free loopback port for the socket backend that takes over.
  const int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(probe);

  backend_options options = options_for(RTE_MAX_ETHPORTS - 1, "127.0.0.1:" + std::to_string(ntohs(address.sin_port)));
  std::vector<std::string> notes;
  auto opened = open_backend(options, notes);
  ASSERT_TRUE(opened.ok()) << opened.err().message();
  EXPECT_NE((*opened)->kind(), backend_kind::dpdk);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("dpdk backend refused"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("no dpdk port"), std::string::npos) << notes[0];
}

TEST(DpdkBackend, RefusesASecondEalWithOtherArguments) {
  ASSERT_TRUE(eal_up());
  backend_options options = options_for(0);
  options.dpdk.eal_args.push_back("--vdev=net_null9");
  auto refused = open_dpdk_backend(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().message().find("already running"), std::string::npos) << refused.err().message();
}

TEST(DpdkBackend, RefusesMoreQueuesThanTheDeviceHas) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  backend_options options = options_for(port->id);
  options.rx_ports = 17;
  auto rx = open_dpdk_backend(options);
  ASSERT_FALSE(rx.ok());
  EXPECT_NE(rx.err().message().find("at most 16 rx queues"), std::string::npos) << rx.err().message();
  options.rx_ports = 1;
  options.tx_ports = 17;
  auto tx = open_dpdk_backend(options);
  ASSERT_FALSE(tx.ok());
  EXPECT_NE(tx.err().message().find("at most 16 tx queues"), std::string::npos) << tx.err().message();
  options.tx_ports = 1;
  options.dpdk.mbufs = 300;
  auto few = open_dpdk_backend(options);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.err().message().find("dataplane.dpdk.mbufs"), std::string::npos) << few.err().message();
  // None of the refusals above spoiled the port.
  options.dpdk.mbufs = 2047;
  auto backend = open_on(options);
  ASSERT_TRUE(backend);
  auto again = open_dpdk_backend(options);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.err().message().find("already in use"), std::string::npos) << again.err().message();
}

TEST(DpdkBackend, ReceivesADatagramForItsAddress) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->local(), ep("192.0.2.10:7700"));
  auto pool = make_pool(8);
  const bytes payload = text("a ferry frame, or anything at all");
  inject(*port, {udp_frame(ep("198.51.100.5:4242"), ep("192.0.2.10:7700"), payload)});
  const auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->length, payload.size());
  EXPECT_EQ(got[0]->flags, 0u);
  EXPECT_TRUE(same(std::span(got[0]->data(), got[0]->length), payload));
  EXPECT_EQ(got[0]->peer, ep("198.51.100.5:4242"));
  EXPECT_NE(got[0]->rx_ticks, 0u);
  pool->release(got.data(), 1);
  EXPECT_EQ(backend->rx(0).ignored(), 0u);
  EXPECT_EQ(backend->rx(0).lost(), 0u);
  EXPECT_TRUE(receive(backend->rx(0), *pool).empty());
  EXPECT_EQ(pool->available(), 8u);
}

TEST(DpdkBackend, IgnoresAndCountsEverythingElse) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  auto pool = make_pool(64);
  const endpoint peer = ep("198.51.100.5:4242");
  const endpoint ferry = ep("192.0.2.10:7700");
  const bytes payload = text("0123456789abcdef");
  const bytes good = udp_frame(peer, ferry, payload);
  constexpr std::size_t ip = sizeof(rte_ether_hdr);
  constexpr std::size_t udp = ip + sizeof(rte_ipv4_hdr);

  std::vector<bytes> frames;
  frames.push_back(udp_frame(peer, ep("192.0.2.10:7701"), payload));  // another port
  frames.push_back(udp_frame(peer, ep("192.0.2.11:7700"), payload));  // another address
  frames.push_back(arp_frame());
  bytes truncated = good;  // the IP total length runs past the frame
  truncated.resize(truncated.size() - 1);
  frames.push_back(truncated);
  bytes short_header = good;  // ends inside the IP header
  short_header.resize(ip + 12);
  frames.push_back(short_header);
  // UDP length one past the IP payload, into a byte of Ethernet padding, with a checksum right for that length:
  // only the length check stands in its way.
  bytes long_udp = good;
  long_udp.push_back(std::byte{0x5a});
  auto* long_header = reinterpret_cast<rte_udp_hdr*>(long_udp.data() + udp);
  const auto long_length = static_cast<std::uint16_t>(rte_be_to_cpu_16(long_header->dgram_len) + 1);
  long_header->dgram_len = rte_cpu_to_be_16(long_length);
  long_header->dgram_cksum = 0;
  bytes pseudo(long_udp.begin() + ip + 12, long_udp.begin() + ip + 20);  // the addresses
  pseudo.push_back(std::byte{0});
  pseudo.push_back(std::byte{IPPROTO_UDP});
  pseudo.push_back(std::byte{static_cast<std::uint8_t>(long_length >> 8)});
  pseudo.push_back(std::byte{static_cast<std::uint8_t>(long_length & 0xff)});
  std::uint32_t sum = rte_raw_cksum(pseudo.data(), pseudo.size()) + rte_raw_cksum(long_header, long_length);
  sum = (sum & 0xffff) + (sum >> 16);
  long_header->dgram_cksum = static_cast<std::uint16_t>(~sum);
  frames.push_back(long_udp);
  bytes tiny_udp = good;  // UDP length under its own header
  tiny_udp[udp + 4] = std::byte{0};
  tiny_udp[udp + 5] = std::byte{4};
  frames.push_back(tiny_udp);
  bytes fragment = good;  // more fragments follow
  fragment[ip + 6] = std::byte{0x20};
  frames.push_back(fragment);
  bytes bad_ip_sum = good;
  bad_ip_sum[ip + 10] ^= std::byte{0xff};
  frames.push_back(bad_ip_sum);
  bytes bad_udp_sum = good;
  bad_udp_sum.back() ^= std::byte{0x01};
  frames.push_back(bad_udp_sum);
  const std::size_t rubbish = frames.size();
  frames.push_back(good);
  inject(*port, frames);

  const auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(same(std::span(got[0]->data(), got[0]->length), payload));
  pool->release(got.data(), 1);
  EXPECT_EQ(backend->rx(0).ignored(), rubbish);
  EXPECT_EQ(pool->available(), 64u);
}

TEST(DpdkBackend, ReceivesIpv6) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id, "[2001:db8::10]:7700"));
  ASSERT_TRUE(backend);
  auto pool = make_pool(8);
  const bytes payload = text("over IPv6");
  inject(*port, {udp_frame(ep("[2001:db8::5]:4242"), ep("[2001:db8::10]:7700"), payload),
                 udp_frame(ep("[2001:db8::5]:4242"), ep("[2001:db8::11]:7700"), payload),
                 udp_frame(ep("198.51.100.5:4242"), ep("192.0.2.10:7700"), payload)});
  const auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(same(std::span(got[0]->data(), got[0]->length), payload));
  EXPECT_EQ(got[0]->peer, ep("[2001:db8::5]:4242"));
  pool->release(got.data(), 1);
  EXPECT_EQ(backend->rx(0).ignored(), 2u);
}

TEST(DpdkBackend, ReceiveOnlyPortTakesAnyAddress) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  backend_options options = options_for(port->id, "0.0.0.0:7700");
  options.tx_ports = 0;
  auto backend = open_on(options);
  ASSERT_TRUE(backend);
  auto pool = make_pool(8);
  inject(*port, {udp_frame(ep("198.51.100.5:1"), ep("192.0.2.10:7700"), text("one")),
                 udp_frame(ep("198.51.100.5:1"), ep("203.0.113.77:7700"), text("two")),
                 udp_frame(ep("198.51.100.5:1"), ep("203.0.113.77:7701"), text("no"))});
  const auto got = receive(backend->rx(0), *pool);
  EXPECT_EQ(got.size(), 2u);
  pool->release(got.data(), static_cast<std::uint32_t>(got.size()));
  EXPECT_EQ(backend->rx(0).ignored(), 1u);
}

TEST(DpdkBackend, TruncatesToTheBufferAndStopsWhenThePoolRunsDry) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  auto pool = make_pool(2, 64);
  bytes large(100);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::byte>(i);
  const endpoint peer = ep("198.51.100.5:4242");
  const endpoint ferry = ep("192.0.2.10:7700");
  inject(*port, {udp_frame(peer, ferry, large), udp_frame(peer, ferry, text("b")), udp_frame(peer, ferry, text("c"))});
  auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 2u);  // two buffers, so two datagrams; the third waits in the queue
  EXPECT_EQ(got[0]->length, 64u);
  EXPECT_EQ(got[0]->flags, packet_flag::truncated);
  EXPECT_TRUE(same(std::span(got[0]->data(), 64), std::span(large).first(64)));
  EXPECT_EQ(got[1]->length, 1u);
  EXPECT_EQ(got[1]->flags, 0u);
  pool->release(got.data(), 2);
  got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::to_integer<char>(got[0]->data()[0]), 'c');
  pool->release(got.data(), 1);
  EXPECT_EQ(backend->rx(0).ignored(), 0u);
}

TEST(DpdkBackend, WaitsBoundedAndKeepsWhatItSaw) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  const auto timed = [&](int ms) {
    const auto start = std::chrono::steady_clock::now();
    backend->rx(0).wait(ms);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  };
  const auto idle = timed(30);
  EXPECT_GE(idle.count(), 29);
  EXPECT_LT(idle.count(), 1000);
  EXPECT_LT(timed(0).count(), 50);
  inject(*port, {udp_frame(ep("198.51.100.5:4242"), ep("192.0.2.10:7700"), text("wake"))});
  EXPECT_LT(timed(5000).count(), 1000);
  EXPECT_LT(timed(5000).count(), 1000);  // what wait() took is still there
  auto pool = make_pool(4);
  const auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->length, 4u);
  pool->release(got.data(), 1);
}

TEST(DpdkBackend, EachPortIsItsOwnQueue) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  backend_options options = options_for(port->id);
  options.rx_ports = 2;
  options.tx_ports = 2;
  auto backend = open_on(options);
  ASSERT_TRUE(backend);
  auto pool = make_pool(8);
  inject(*port, {udp_frame(ep("198.51.100.5:4242"), ep("192.0.2.10:7700"), text("queue one"))}, 1);
  EXPECT_TRUE(receive(backend->rx(0), *pool).empty());
  const auto got = receive(backend->rx(1), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->length, 9u);
  pool->release(got.data(), 1);
  // tx port 1 is tx queue 1.
  auto frame = std::make_unique<outgoing>(ep("198.51.100.5:4242"), text("x"));
  EXPECT_EQ(backend->tx(1).send(&frame->message, 1), 1u);
  EXPECT_TRUE(take_sent(*port, 0).empty());
  EXPECT_EQ(take_sent(*port, 1).size(), 1u);
}

// Checks one frame ferry sent against what it should be, with DPDK's own checksum functions.
void expect_sent(const bytes& frame, const rte_ether_addr& source_mac, const endpoint& from, const endpoint& to,
                 const bytes& payload) {
  const bool v4 = to.family() == AF_INET;
  const std::size_t l3 = v4 ? sizeof(rte_ipv4_hdr) : sizeof(rte_ipv6_hdr);
  const std::size_t length = sizeof(rte_ether_hdr) + l3 + sizeof(rte_udp_hdr) + payload.size();
  ASSERT_EQ(frame.size(), std::max<std::size_t>(length, 60));
  bytes copy(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(length));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(copy.data());
  EXPECT_EQ(std::memcmp(eth->dst_addr.addr_bytes, next_hop.data(), 6), 0);
  EXPECT_EQ(std::memcmp(eth->src_addr.addr_bytes, source_mac.addr_bytes, 6), 0);
  EXPECT_EQ(rte_be_to_cpu_16(eth->ether_type), v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  std::byte* l3_at = copy.data() + sizeof(rte_ether_hdr);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(l3_at + l3);
  EXPECT_EQ(rte_be_to_cpu_16(udp->src_port), from.port());
  EXPECT_EQ(rte_be_to_cpu_16(udp->dst_port), to.port());
  EXPECT_EQ(rte_be_to_cpu_16(udp->dgram_len), sizeof(rte_udp_hdr) + payload.size());
  EXPECT_TRUE(same(std::span(reinterpret_cast<const std::byte*>(udp + 1), payload.size()), payload));
  const std::uint16_t sent_udp_sum = udp->dgram_cksum;
  udp->dgram_cksum = 0;
  if (v4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(l3_at);
    EXPECT_EQ(ip->version_ihl, RTE_IPV4_VHL_DEF);
    EXPECT_EQ(rte_be_to_cpu_16(ip->total_length), l3 + sizeof(rte_udp_hdr) + payload.size());
    EXPECT_EQ(ip->next_proto_id, IPPROTO_UDP);
    EXPECT_GT(ip->time_to_live, 0);
    const in_addr source = v4_of(from);
    const in_addr destination = v4_of(to);
    EXPECT_EQ(std::memcmp(&ip->src_addr, &source, 4), 0);
    EXPECT_EQ(std::memcmp(&ip->dst_addr, &destination, 4), 0);
    const std::uint16_t sent_ip_sum = ip->hdr_checksum;
    ip->hdr_checksum = 0;
    EXPECT_EQ(sent_ip_sum, rte_ipv4_cksum(ip));
    EXPECT_EQ(sent_udp_sum, rte_ipv4_udptcp_cksum(ip, udp));
  } else {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(l3_at);
    EXPECT_EQ(rte_be_to_cpu_32(ip->vtc_flow) >> 28, 6u);
    EXPECT_EQ(rte_be_to_cpu_16(ip->payload_len), sizeof(rte_udp_hdr) + payload.size());
    EXPECT_EQ(ip->proto, IPPROTO_UDP);
    EXPECT_GT(ip->hop_limits, 0);
    const in6_addr source = v6_of(from);
    const in6_addr destination = v6_of(to);
    EXPECT_EQ(std::memcmp(ip->src_addr, &source, 16), 0);
    EXPECT_EQ(std::memcmp(ip->dst_addr, &destination, 16), 0);
    EXPECT_EQ(sent_udp_sum, rte_ipv6_udptcp_cksum(ip, udp));
  }
}

TEST(DpdkBackend, SendsFramesWithTheRightHeaders) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  rte_ether_addr mac;
  ASSERT_EQ(rte_eth_macaddr_get(port->id, &mac), 0);
  std::vector<std::unique_ptr<outgoing>> frames;
  bytes large(1200);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::byte>(i * 7);
  frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:4242"), text("hi")));  // padded to 60 bytes
  frames.push_back(std::make_unique<outgoing>(ep("203.0.113.9:9"), large));
  frames.push_back(std::make_unique<outgoing>(ep("203.0.113.9:9"), bytes{}));
  ASSERT_EQ(send_all(backend->tx(0), frames), frames.size());
  const auto sent = take_sent(*port);
  ASSERT_EQ(sent.size(), frames.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(i);
    expect_sent(sent[i], mac, ep("192.0.2.10:7700"), frames[i]->destination, frames[i]->data);
  }
}

TEST(DpdkBackend, SendsIpv6) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id, "[2001:db8::10]:7700"));
  ASSERT_TRUE(backend);
  rte_ether_addr mac;
  ASSERT_EQ(rte_eth_macaddr_get(port->id, &mac), 0);
  std::vector<std::unique_ptr<outgoing>> frames;
  frames.push_back(std::make_unique<outgoing>(ep("[2001:db8::5]:4242"), text("over IPv6, 33 bytes of payload..")));
  ASSERT_EQ(send_all(backend->tx(0), frames), 1u);
  const auto sent = take_sent(*port);
  ASSERT_EQ(sent.size(), 1u);
  expect_sent(sent[0], mac, ep("[2001:db8::10]:7700"), frames[0]->destination, frames[0]->data);
}

TEST(DpdkBackend, RefusesFramesItCannotSendOneAtATime) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  std::uint16_t mtu = 0;
  ASSERT_EQ(rte_eth_dev_get_mtu(port->id, &mtu), 0);
  const std::size_t largest = mtu - sizeof(rte_ipv4_hdr) - sizeof(rte_udp_hdr);
  std::vector<std::unique_ptr<outgoing>> frames;
  frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:1"), bytes(largest)));     // fits the MTU exactly
  frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:2"), bytes(largest + 1)));  // one byte over
  frames.push_back(std::make_unique<outgoing>(ep("[2001:db8::5]:3"), text("wrong family")));
  frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:4"), text("last")));
  std::vector<mmsghdr> messages;
  for (auto& f : frames) messages.push_back(f->message);
  // As the tx_port contract has it: the count sent in order, then the caller skips the refused one and goes on.
  EXPECT_EQ(backend->tx(0).send(messages.data(), 4), 1u);
  EXPECT_EQ(backend->tx(0).send(messages.data() + 2, 2), 0u);
  EXPECT_EQ(backend->tx(0).send(messages.data() + 3, 1), 1u);
  const auto sent = take_sent(*port);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].size(), std::size_t{mtu} + sizeof(rte_ether_hdr));
  rte_ether_addr mac;
  ASSERT_EQ(rte_eth_macaddr_get(port->id, &mac), 0);
  expect_sent(sent[1], mac, ep("192.0.2.10:7700"), frames[3]->destination, frames[3]->data);
}

TEST(DpdkBackend, GivesUpOnAFullQueueQuickly) {
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  const std::size_t capacity = rte_ring_get_capacity(port->rings[0]);
  std::vector<std::unique_ptr<outgoing>> frames;
  for (std::size_t i = 0; i < capacity + 10; ++i) {
    frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:4242"), text("fill")));
  }
  const auto start = std::chrono::steady_clock::now();
  const std::uint32_t sent = send_all(backend->tx(0), frames);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(sent, capacity);
  EXPECT_EQ(take_sent(*port).size(), capacity);
  // The mbufs of the frames that did not go were given back: the pool can fill the ring again.
  EXPECT_EQ(send_all(backend->tx(0), frames), capacity);
  EXPECT_EQ(take_sent(*port).size(), capacity);
}

TEST(DpdkBackend, LoopsBackThroughItsOwnPort) {
  // net_ring hands tx queue 0's frames to rx queue 0: what ferry sends to its own address, it receives.
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  auto pool = make_pool(8);
  std::vector<std::unique_ptr<outgoing>> frames;
  frames.push_back(std::make_unique<outgoing>(ep("192.0.2.10:7700"), text("round trip")));
  frames.push_back(std::make_unique<outgoing>(ep("192.0.2.10:7701"), text("not for ferry")));
  ASSERT_EQ(send_all(backend->tx(0), frames), 2u);
  const auto got = receive(backend->rx(0), *pool);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(same(std::span(got[0]->data(), got[0]->length), text("round trip")));
  EXPECT_EQ(got[0]->peer, ep("192.0.2.10:7700"));
  pool->release(got.data(), 1);
  EXPECT_EQ(backend->rx(0).ignored(), 1u);
}

TEST(DpdkBackend, StagesOnTwoThreadsShareThePortAndItsPool) {
  // A route stage sends on one thread while an io stage receives on another (net_ring hands the frames across), and
  // the mbufs go round the one pool between them: what the sanitizers must see as properly handed over.
  const auto port = make_ring_port();
  ASSERT_TRUE(port);
  auto backend = open_on(options_for(port->id));
  ASSERT_TRUE(backend);
  constexpr std::uint32_t total = 4000;
  std::atomic<std::uint32_t> received{0};
  std::atomic<bool> stop{false};
  std::thread io([&] {
    auto pool = make_pool(64);
    std::uint32_t expected = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (expected < total && std::chrono::steady_clock::now() < deadline) {
      backend->rx(0).wait(1);
      const auto got = receive(backend->rx(0), *pool);
      for (packet_buffer* b : got) {
        std::uint32_t sequence = 0;
        ASSERT_EQ(b->length, sizeof sequence);
        std::memcpy(&sequence, b->data(), sizeof sequence);
        EXPECT_EQ(sequence, expected++);
      }
      pool->release(got.data(), static_cast<std::uint32_t>(got.size()));
      received.store(expected, std::memory_order_release);
    }
    stop.store(true);
  });
  std::thread route([&] {
    std::uint32_t next = 0;
    while (next < total && !stop.load()) {
      bytes payload(sizeof next);
      std::memcpy(payload.data(), &next, sizeof next);
      outgoing frame(ep("192.0.2.10:7700"), payload);
      if (backend->tx(0).send(&frame.message, 1) == 1) {
        ++next;
      } else {
        std::this_thread::yield();  // the ring is full: the io stage is behind
      }
    }
  });
  route.join();
  io.join();
  EXPECT_EQ(received.load(std::memory_order_acquire), total);
  EXPECT_EQ(backend->rx(0).ignored(), 0u);
}

TEST(DpdkBackend, ConfiguresRssWhereThePortOffersIt) {
  // net_null offers RSS and makes up frames of zeros on every receive: each is ignored, none delivered.
  ASSERT_TRUE(eal_up());
  static int made = 0;  // a closed port's device stays probed, so each run (--gtest_repeat) needs a new name
  const std::string name = "net_null_ft" + std::to_string(made++);
  ASSERT_EQ(rte_dev_probe(name.c_str()), 0);
  std::uint16_t id = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &id), 0);
  rte_eth_dev_info info;
  ASSERT_EQ(rte_eth_dev_info_get(id, &info), 0);
  ASSERT_NE(info.flow_type_rss_offloads & RTE_ETH_RSS_UDP, 0u);
  backend_options options = options_for(id);
  options.rx_ports = 2;
  auto backend = open_on(options);
  ASSERT_TRUE(backend);
  rte_eth_rss_conf rss{};
  ASSERT_EQ(rte_eth_dev_rss_hash_conf_get(id, &rss), 0);
  EXPECT_NE(rss.rss_hf & RTE_ETH_RSS_UDP, 0u);
  auto pool = make_pool(8);
  for (std::uint32_t q = 0; q < 2; ++q) EXPECT_TRUE(receive(backend->rx(q), *pool, 8).empty());
  EXPECT_EQ(backend->rx(0).ignored(), 8u);
  EXPECT_EQ(backend->rx(1).ignored(), 8u);
  EXPECT_EQ(pool->available(), 8u);
}

// net_tap offers checksum offload (it computes them in software when asked): frames ferry sends with the offload
// flags come out on the kernel's side of the tap with the checksums filled in, where a packet socket reads them.
TEST(DpdkBackend, OffloadedChecksumsComeOutRight) {
  ASSERT_TRUE(eal_up());
  static int made = 0;
  const std::string iface = "fytap" + std::to_string(getpid() % 100000) + "_" + std::to_string(made);
  const std::string name = "net_tap_ft" + std::to_string(made++);
  if (rte_dev_probe((name + ",iface=" + iface).c_str()) != 0) {
    GTEST_SKIP() << "net_tap could not be created here (no /dev/net/tun or no CAP_NET_ADMIN)";
  }
  std::uint16_t id = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &id), 0);
  rte_eth_dev_info info;
  ASSERT_EQ(rte_eth_dev_info_get(id, &info), 0);
  const std::uint64_t wanted = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  ASSERT_EQ(info.tx_offload_capa & wanted, wanted);
  auto backend = open_on(options_for(id));
  ASSERT_TRUE(backend);
  rte_eth_conf conf;
  ASSERT_EQ(rte_eth_dev_conf_get(id, &conf), 0);
  EXPECT_EQ(conf.txmode.offloads & wanted, wanted);  // so the port, not ferry, filled the checksums in

  const int capture = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (capture < 0) GTEST_SKIP() << "no packet socket to read the tap with: " << std::strerror(errno);
  sockaddr_ll where{};
  where.sll_family = AF_PACKET;
  where.sll_protocol = htons(ETH_P_ALL);
  where.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
  ASSERT_NE(where.sll_ifindex, 0);
  ASSERT_EQ(::bind(capture, reinterpret_cast<sockaddr*>(&where), sizeof where), 0) << std::strerror(errno);

  rte_ether_addr mac;
  ASSERT_EQ(rte_eth_macaddr_get(id, &mac), 0);
  std::vector<std::unique_ptr<outgoing>> frames;
  frames.push_back(std::make_unique<outgoing>(ep("198.51.100.5:4242"), text("checksummed by the port, 41 bytes long")));
  ASSERT_EQ(send_all(backend->tx(0), frames), 1u);
  // The kernel also sends its own frames on a new interface (IPv6 router solicitations): read until ours.
  bool found = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!found && std::chrono::steady_clock::now() < deadline) {
    pollfd p{capture, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    bytes frame(2048);
    const ssize_t n = ::recv(capture, frame.data(), frame.size(), 0);
    if (n <= 0) continue;
    frame.resize(static_cast<std::size_t>(n));
    if (frame.size() < 6 || std::memcmp(frame.data(), next_hop.data(), 6) != 0) continue;
    found = true;
    expect_sent(frame, mac, ep("192.0.2.10:7700"), frames[0]->destination, frames[0]->data);
  }
  ::close(capture);
  EXPECT_TRUE(found) << "ferry's frame never came out of " << iface;
}

}  // namespace
}  // namespace ferry::dp

#endif  // FERRY_HAVE_DPDK
