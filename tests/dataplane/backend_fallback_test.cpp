#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ferry/dataplane/buffer_pool.hpp"
#include "ferry/dataplane/endpoint.hpp"
#include "ferry/dataplane/io_port.hpp"
#include "ferry/dataplane/placed.hpp"

namespace ferry::dp {
namespace {

using steady = std::chrono::steady_clock;

backend_options loopback(backend_choice choice) {
  backend_options options;
  options.choice = choice;
  options.listen = endpoint::parse("127.0.0.1:0").value();
  return options;
}

// The io_uring backend's support check names io_uring first in each refusal that comes from the system.
bool refused_by_system(const platform::result<std::unique_ptr<io_backend>>& opened) {
  return !opened.ok() && opened.err().message().rfind("io_uring", 0) == 0;
}

TEST(BackendFallback, SocketChoiceGivesSocketsAndNoNotes) {
  std::vector<std::string> notes;
  auto backend = open_backend(loopback(backend_choice::socket), notes);
  ASSERT_TRUE(backend.ok()) << backend.err().message();
  EXPECT_EQ((*backend)->kind(), backend_kind::socket);
  EXPECT_TRUE(notes.empty());
}

TEST(BackendFallback, AutomaticChoosesIoUringWhereTheKernelAllowsIt) {
  {
    auto uring = open_uring_backend(loopback(backend_choice::io_uring));
    if (refused_by_system(uring)) GTEST_SKIP() << uring.err().message();
    ASSERT_TRUE(uring.ok()) << uring.err().message();
  }
  std::vector<std::string> notes;
  auto backend = open_backend(loopback(backend_choice::automatic), notes);
  ASSERT_TRUE(backend.ok()) << backend.err().message();
  EXPECT_EQ((*backend)->kind(), backend_kind::io_uring);
  EXPECT_TRUE(notes.empty()) << notes.front();
}

// What check_fallback() found (the forked child's exit code).
enum fallback_result : int {
  passed = 0,
  cannot_force = 2,  // no seccomp filters here, and io_uring works: the refusal cannot be forced
  filter_ineffective = 10,
  open_failed,
  not_socket,
  wrong_notes,
  no_pool,
  rx_failed,
  tx_failed,
};

const char* describe(int code) {
  switch (code) {
    case filter_ineffective: return "io_uring_setup still works under the filter";
    case open_failed: return "open_backend failed";
    case not_socket: return "open_backend did not fall back to the socket backend";
    case wrong_notes: return "notes are not one line naming io_uring and the reason";
    case no_pool: return "the buffer pool could not be made";
    case rx_failed: return "a datagram sent to local() did not arrive through rx(0)";
    case tx_failed: return "a frame sent through tx(0) did not arrive";
    default: return "unexpected exit code";
  }
}

// Makes io_uring_setup fail with EPERM for this process from now on, as a container's seccomp profile does.
bool refuse_io_uring_setup() {
#if defined(__x86_64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_AARCH64;
#else
  return false;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // another ABI's call numbers mean other things: leave them
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
#endif
}

int plain_socket_on_loopback() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return -1;
  return fd;
}

// Asks for io_uring where the system refuses it, for `reason`: the socket backend must open instead, say so in one
// note, and carry a datagram each way. Plain checks and result codes, since it also runs in a forked child, where
// gtest's assertions would not reach the parent.
int check_fallback(const std::string& reason) {
  std::vector<std::string> notes;
  auto opened = open_backend(loopback(backend_choice::io_uring), notes);
  if (!opened) return open_failed;
  io_backend& backend = **opened;
  if (backend.kind() != backend_kind::socket) return not_socket;
  if (notes.size() != 1 || notes[0].find("io_uring") == std::string::npos ||
      notes[0].find(reason) == std::string::npos) {
    return wrong_notes;
  }

  const int peer = plain_socket_on_loopback();
  if (peer < 0) return rx_failed;
  const char hello[] = "through the socket backend";
  const endpoint local = backend.local();
  if (::sendto(peer, hello, sizeof hello, 0, local.address(), local.length()) != sizeof hello) return rx_failed;
  auto pool = placed<buffer_pool>::create("fallback pool", platform::page_size::normal, 4u, 256u);
  if (!pool) return no_pool;
  packet_buffer* out[rx_port::max_burst];
  std::uint32_t got = 0;
  const auto start = steady::now();
  while (got == 0 && steady::now() - start < std::chrono::seconds(2)) {
    got = backend.rx(0).receive(**pool, out, rx_port::max_burst);
    if (got == 0) backend.rx(0).wait(20);
  }
  if (got != 1 || out[0]->length != sizeof hello || std::memcmp(out[0]->data(), hello, sizeof hello) != 0) {
    return rx_failed;
  }
  (*pool)->release(out, got);

  sockaddr_storage peer_address{};
  socklen_t peer_length = sizeof peer_address;
  ::getsockname(peer, reinterpret_cast<sockaddr*>(&peer_address), &peer_length);
  const char reply[] = "and back";
  iovec part{const_cast<char*>(reply), sizeof reply};
  mmsghdr frame{};
  frame.msg_hdr.msg_name = &peer_address;
  frame.msg_hdr.msg_namelen = peer_length;
  frame.msg_hdr.msg_iov = &part;
  frame.msg_hdr.msg_iovlen = 1;
  if (backend.tx(0).send(&frame, 1) != 1) return tx_failed;
  pollfd p{peer, POLLIN, 0};
  char back[64] = {};
  const bool answered = ::poll(&p, 1, 2000) == 1 && ::recv(peer, back, sizeof back, 0) == sizeof reply &&
                        std::memcmp(back, reply, sizeof reply) == 0;
  ::close(peer);
  return answered ? passed : tx_failed;
}

// The forked child's run: refuse io_uring_setup with a seccomp filter, then check the fallback.
int refused_child() {
  if (!refuse_io_uring_setup()) return cannot_force;
  io_uring_params params{};
  if (::syscall(__NR_io_uring_setup, 4, &params) >= 0 || errno != EPERM) return filter_ineffective;
  return check_fallback(std::strerror(EPERM));
}

TEST(BackendFallback, RefusedIoUringFallsBackToSocketsAndTrafficFlows) {
  {
    // Where the system refuses io_uring already (qemu-user: ENOSYS), that refusal is the one to fall back from,
    // in this process: qemu-user's fork() is not to be relied on.
    auto uring = open_uring_backend(loopback(backend_choice::io_uring));
    if (refused_by_system(uring)) {
      const int code = check_fallback(uring.err().message());
      EXPECT_EQ(code, passed) << describe(code);
      return;
    }
    ASSERT_TRUE(uring.ok()) << uring.err().message();
  }

  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) ::_exit(refused_child());

  int status = 0;
  pid_t done = 0;
  const auto start = steady::now();
  while ((done = ::waitpid(child, &status, WNOHANG)) == 0 && steady::now() - start < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (done == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "the child did not finish within 5 s";
  }
  ASSERT_EQ(done, child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  const int code = WEXITSTATUS(status);
  if (code == cannot_force) GTEST_SKIP() << "no seccomp filters here and io_uring works: cannot force the refusal";
  EXPECT_EQ(code, passed) << describe(code);
}

}  // namespace
}  // namespace ferry::dp
