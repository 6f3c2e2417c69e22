#include "ferry/control/control_socket.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "ferry/control/control_api.hpp"
#include "ferry/control/stats.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::ctl {
namespace {

using json = nlohmann::json;

// What a client reads until the server closes (bounded by `timeout_ms`).
std::string read_all(int fd, int timeout_ms = 5000) {
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char chunk[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got <= 0) break;
    reply.append(chunk, static_cast<std::size_t>(got));
  }
  return reply;
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` as they are and returns the whole reply; `finish` ends the request's side of the stream first.
std::string send_raw(const std::string& path, const std::string& bytes, bool finish = false) {
  const int fd = connect_unix(path);
  if (fd < 0) return "connect: " + std::string(std::strerror(errno));
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    ::close(fd);
    return "write failed";
  }
  if (finish) ::shutdown(fd, SHUT_WR);
  std::string reply = read_all(fd);
  ::close(fd);
  return reply;
}

class ControlSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    _path = _dir.path() + "/ctl/ferryd.sock";  // the server creates the missing directory
  }

  // Answers every request with what it received, as JSON.
  static http_response echo(const http_request& request) {
    if (request.path == "/missing") return error_response(404, "no");
    return {200, json{{"method", request.method}, {"path", request.path}, {"query", request.query},
                      {"body", request.body}}
                     .dump()};
  }

  platform::result<std::unique_ptr<control_server>> start(const socket_access& access = {}) {
    return control_server::start_unix(_path, access, echo);
  }

  testing::temp_dir _dir{"control"};
  std::string _path;
};

TEST_F(ControlSocket, AnswersRequests) {
  auto server = start();
  ASSERT_TRUE(server.ok()) << server.err().message();
  EXPECT_EQ((*server)->path(), _path);
  auto response = control_request(_path, "GET", "/stats");
  ASSERT_TRUE(response.ok()) << response.err().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"body":"","method":"GET","path":"/stats","query":""})" "\n");
  auto missing = control_request(_path, "GET", "/missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, R"({"error":"no"})" "\n");
}

TEST_F(ControlSocket, PassesEveryMethodTheQueryAndTheBody) {
  auto server = start();
  ASSERT_TRUE(server.ok()) << server.err().message();
  const std::string route = "name = \"x\"\nkind = \"wormhole\"\nsource = 2\nnext_hop = \"127.0.0.1:7701\"\n";
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "GET"}) {
    auto response = control_request(_path, method, "/routes/eth%2Fsol?verbose=1&x", route);
    ASSERT_TRUE(response.ok()) << response.err().message();
    ASSERT_EQ(response->status, 200) << response->body;
    const json echoed = json::parse(response->body);
    EXPECT_EQ(echoed["method"], method);
    EXPECT_EQ(echoed["path"], "/routes/eth%2Fsol") << "paths stay encoded: the handler decodes each segment";
    EXPECT_EQ(echoed["query"], "verbose=1&x");
    EXPECT_EQ(echoed["body"], route);
  }
  // A POST without a body is fine (curl -X POST sends none).
  const std::string reply = send_raw(_path, "POST /reload HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK", 0), 0u) << reply;
}

TEST_F(ControlSocket, TakesABodyUpTo64KiBAndRefusesALongerOne) {
  auto server = start();
  ASSERT_TRUE(server.ok()) << server.err().message();
  const std::string largest(max_request_body, 'b');
  auto response = control_request(_path, "POST", "/routes", largest);
  ASSERT_TRUE(response.ok()) << response.err().message();
  ASSERT_EQ(response->status, 200);
  EXPECT_EQ(json::parse(response->body)["body"].get<std::string>().size(), max_request_body);

  auto too_long = control_request(_path, "POST", "/routes", largest + "b");
  ASSERT_TRUE(too_long.ok()) << too_long.err().message();
  EXPECT_EQ(too_long->status, 413);
  EXPECT_NE(json::parse(too_long->body)["error"].get<std::string>().find("at most 65536"), std::string::npos)
      << too_long->body;

  // Refused from the header alone: the server does not wait for a body it would not take.
  const std::string reply = send_raw(_path, "POST /routes HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
}

TEST_F(ControlSocket, RefusesABodyWithoutAGoodContentLength) {
  auto server = start();
  ASSERT_TRUE(server.ok()) << server.err().message();
  struct bad {
    std::string request;
    std::string says;
  };
  const std::vector<bad> cases = {
      {"POST /routes HTTP/1.1\r\nHost: x\r\n\r\nname = \"x\"", "needs a Content-Length"},
      {"POST /routes HTTP/1.1\r\nContent-Length: ten\r\n\r\n0123456789", "Content-Length must be a decimal number"},
      {"POST /routes HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "Content-Length must be a decimal number"},
      {"POST /routes HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", "two different"},
      {"POST /routes HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "Transfer-Encoding"},
      {"POST /routes HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", "ended after 3 of its 10 bytes"},
      {"POST /routes HTTP/1.1\r\nno colon here\r\n\r\n", "malformed header line"},
      {"POST routes HTTP/1.1\r\n\r\n", "starting with '/'"},
  };
  for (const bad& c : cases) {
    const std::string reply = send_raw(_path, c.request, true);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << c.request << "\n" << reply;
    EXPECT_NE(reply.find(c.says), std::string::npos) << c.request << "\n" << reply;
    EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos) << reply;
  }
}

TEST_F(ControlSocket, SendsContinueWhenAsked) {
  auto server = start();
  ASSERT_TRUE(server.ok()) << server.err().message();
  const int fd = connect_unix(_path);
  ASSERT_GE(fd, 0);
  const std::string head = "POST /routes HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  char interim[64] = {};
  ASSERT_GT(::read(fd, interim, sizeof interim - 1), 0);
  EXPECT_EQ(std::string(interim), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  const std::string reply = read_all(fd);
  ::close(fd);
  EXPECT_NE(reply.find(R"("body":"hello")"), std::string::npos) << reply;
}

TEST_F(ControlSocket, SocketIsOwnerAndGroupOnlyAndRemovedAtStop) {
  {
    auto server = start();
    ASSERT_TRUE(server.ok()) << server.err().message();
    struct stat st {};
    ASSERT_EQ(::stat(_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    ASSERT_EQ(::stat((_dir.path() + "/ctl").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0750u);
  }
  EXPECT_FALSE(std::filesystem::exists(_path));
}

TEST_F(ControlSocket, GivesTheSocketAndItsNewDirectoryToTheOwnerAndGroupAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving a file to another user needs root";
  for (const socket_access& access : {socket_access{"nobody", "nogroup"}, socket_access{"65534", "65534"}}) {
    std::filesystem::remove_all(_dir.path() + "/ctl");
    auto server = start(access);
    ASSERT_TRUE(server.ok()) << server.err().message();
    struct stat st {};
    ASSERT_EQ(::stat(_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_uid, 65534u) << *access.owner;
    EXPECT_EQ(st.st_gid, 65534u) << *access.group;
    ASSERT_EQ(::stat((_dir.path() + "/ctl").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0750u);
    EXPECT_EQ(st.st_uid, 65534u);
    EXPECT_EQ(st.st_gid, 65534u);
    // Root still gets in.
    auto response = control_request(_path, "GET", "/status");
    ASSERT_TRUE(response.ok()) << response.err().message();
    EXPECT_EQ(response->status, 200);
  }
  // Only the group: the owner stays ferryd's user.
  std::filesystem::remove_all(_dir.path() + "/ctl");
  auto server = start({std::nullopt, "nogroup"});
  ASSERT_TRUE(server.ok()) << server.err().message();
  struct stat st {};
  ASSERT_EQ(::stat(_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(ControlSocket, NamesAnUnknownUserOrGroup) {
  auto user = start({"ferry-no-such-user", std::nullopt});
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.err().message(), "control socket " + _path +
                                      ": owner: no such user 'ferry-no-such-user' (give a user name or a numeric uid)");
  auto group = start({std::nullopt, "ferry-no-such-group"});
  ASSERT_FALSE(group.ok());
  EXPECT_NE(group.err().message().find("group: no such group 'ferry-no-such-group'"), std::string::npos)
      << group.err().message();
  EXPECT_FALSE(std::filesystem::exists(_dir.path() + "/ctl")) << "nothing is created before the names resolve";
}

TEST_F(ControlSocket, RefusesASecondServerButReplacesAStaleFile) {
  auto first = start();
  ASSERT_TRUE(first.ok()) << first.err().message();
  auto second = start();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.err().message().find("another ferryd is already serving there"), std::string::npos);
  first->reset();

  // A socket file nobody answers on, as a crashed ferryd leaves behind.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", _path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
  auto third = start();
  ASSERT_TRUE(third.ok()) << third.err().message();
  EXPECT_TRUE(control_request(_path, "GET", "/x").ok());
}

TEST_F(ControlSocket, AnswersGarbageWithBadRequest) {
  auto server = start();
  ASSERT_TRUE(server.ok());
  const std::string reply = send_raw(_path, "hello\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << reply;
  EXPECT_NE(reply.find(R"({"error":"expected an HTTP/1.1 request line)"), std::string::npos) << reply;
}

TEST_F(ControlSocket, AHandlerThatThrowsGetsA500AndTheServerGoesOn) {
  auto server = control_server::start_unix(_path, {}, [](const http_request& request) -> http_response {
    if (request.path == "/throw") throw std::runtime_error("bug");
    return {200, "{}"};
  });
  ASSERT_TRUE(server.ok()) << server.err().message();
  auto thrown = control_request(_path, "GET", "/throw");
  ASSERT_TRUE(thrown.ok());
  EXPECT_EQ(thrown->status, 500);
  auto next = control_request(_path, "GET", "/fine");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->status, 200);
}

TEST(RequestLine, TakesMethodAndPathOfAnHttp1Line) {
  const auto line = parse_request_line("GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->method, "GET");
  EXPECT_EQ(line->path, "/stats");
  for (const char* bad : {"", "GET /stats HTTP/1.1", "GET /stats\r\n", " /stats HTTP/1.1\r\n", "GET  HTTP/1.1\r\n",
                          "GET /stats HTTP/2\r\n", "GET\r\n", "hello\r\n\r\n"}) {
    EXPECT_FALSE(parse_request_line(bad).has_value()) << bad;
  }
}

TEST(RequestParser, SplitsTheTargetAndReadsTheBody) {
  auto request = parse_request(
      "POST /routes/a%20b?x=1 HTTP/1.0\r\nHost: ferry\r\ncontent-length:  4 \r\n\r\nbodyEXTRA");
  ASSERT_TRUE(request.ok()) << request.err().message();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->path, "/routes/a%20b");
  EXPECT_EQ(request->query, "x=1");
  EXPECT_EQ(request->body, "body") << "bytes past Content-Length are not the body";

  const std::string_view with_expect = "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 7\r\n\r\n";
  auto head = parse_request_head(std::string(with_expect) + "1234567");
  ASSERT_TRUE(head.ok()) << head.err().message();
  EXPECT_TRUE(head->expect_continue);
  EXPECT_EQ(head->content_length, 7u);
  EXPECT_EQ(head->head_size, with_expect.size());

  EXPECT_FALSE(parse_request("POST / HTTP/1.1\r\nContent-Length: 7\r\n\r\nshort").ok());
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: x\r\n").ok()) << "a head without its blank line";
  EXPECT_FALSE(parse_request("G(T / HTTP/1.1\r\n\r\n").ok()) << "a method that is not a token";
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\n folded\r\n\r\n").ok());
}

TEST(PercentEscapes, DecodeAndEncodeRouteNames) {
  EXPECT_EQ(percent_decode("eth-%3Esol"), "eth->sol");
  EXPECT_EQ(percent_decode("a%2fb%20c+d"), "a/b c+d");
  EXPECT_EQ(percent_decode(""), "");
  for (const char* bad : {"%", "%2", "a%zz", "%00", "%g0", "x%"}) EXPECT_FALSE(percent_decode(bad)) << bad;
  const std::string name = "eth->sol/1 ü%?#";
  EXPECT_EQ(percent_encode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(percent_encode("a/b c"), "a%2Fb%20c");
  EXPECT_EQ(percent_decode(percent_encode(name)), name);
}

TEST(ClientRequest, SaysWhenNobodyIsThere) {
  auto response = control_request("/tmp/ferry-no-such-dir/ferryd.sock", "GET", "/stats", {}, 500);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.err().message().find("is ferryd running?"), std::string::npos) << response.err().message();
  EXPECT_FALSE(control_request(std::string(200, 'x'), "GET", "/", {}, 500).ok());
}

// A TCP client's whole exchange with `where`.
std::string tcp_exchange(const dp::endpoint& where, const std::string& bytes) {
  const int fd = ::socket(where.family(), SOCK_STREAM, 0);
  if (::connect(fd, where.address(), where.length()) != 0) {
    ::close(fd);
    return "connect: " + std::string(std::strerror(errno));
  }
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    ::close(fd);
    return "write failed";
  }
  std::string reply = read_all(fd);
  ::close(fd);
  return reply;
}

TEST(MetricsListener, ServesOnLoopbackOnly) {
  const auto metrics = [](const http_request& request) {
    if (request.path != "/metrics") return error_response(404, "only /metrics");
    return http_response{200, "ferry_up 1\n", "text/plain; version=0.0.4"};
  };
  for (const char* outside : {"0.0.0.0:0", "192.0.2.1:9100", "[::]:0", "[2001:db8::1]:9100"}) {
    auto refused = control_server::start_tcp(*dp::endpoint::parse(outside), metrics);
    ASSERT_FALSE(refused.ok()) << outside;
    EXPECT_NE(refused.err().message().find("not a loopback address"), std::string::npos) << refused.err().message();
  }
  EXPECT_FALSE(control_server::start_tcp(dp::endpoint(), metrics).ok());

  for (const char* loopback : {"127.0.0.1:0", "127.0.0.2:0"}) {
    auto server = control_server::start_tcp(*dp::endpoint::parse(loopback), metrics);
    ASSERT_TRUE(server.ok()) << server.err().message();
    const dp::endpoint bound = (*server)->local();
    EXPECT_NE(bound.port(), 0) << "local() tells the port the kernel chose";
    EXPECT_TRUE(bound.same_host(*dp::endpoint::parse(loopback)));
    EXPECT_TRUE((*server)->path().empty());
    const std::string reply = tcp_exchange(bound, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
    EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4\r\n"), std::string::npos) << reply;
    EXPECT_EQ(reply.substr(reply.find("\r\n\r\n") + 4), "ferry_up 1\n");
    EXPECT_EQ(tcp_exchange(bound, "GET /x HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found", 0), 0u);
    // A second listener on the same port is refused with the system's reason.
    auto again = control_server::start_tcp(bound, metrics);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.err().message().find("bind: Address already in use"), std::string::npos)
        << again.err().message();
  }
}

// Who may use the socket: ferryctl, run as another user by setpriv (util-linux), against a socket that root serves.
class ControlSocketPeers : public ControlSocket {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run a client as another user";
    ControlSocket::SetUp();
    ferry::testing::child_process probe({"setpriv", "--version"}, _dir.path() + "/probe");
    if (!probe.started() || probe.wait_for(std::chrono::seconds(30)) != 0) {
      GTEST_SKIP() << "needs setpriv (util-linux)";
    }
    // Let others reach the socket's directory, so that only the socket's own mode and the peer check decide.
    std::filesystem::create_directories(_dir.path() + "/ctl");
    std::filesystem::permissions(_dir.path(), std::filesystem::perms(0755));
    std::filesystem::permissions(_dir.path() + "/ctl", std::filesystem::perms(0755));
  }

  struct ran {
    int code;
    std::string err;
  };

  // `ferryctl status` as uid 65534 (nobody), gid `gid`, with supplementary groups `groups` ("" for none).
  ran ferryctl_as_nobody(const std::string& gid, const std::string& groups) {
    std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=" + gid};
    argv.push_back(groups.empty() ? "--clear-groups" : "--groups=" + groups);
    const std::vector<std::string> emulator = ferry::testing::emulator_prefix(FERRY_TEST_EMULATOR);
    argv.insert(argv.end(), emulator.begin(), emulator.end());
    argv.insert(argv.end(), {FERRYCTL_PATH, "--socket", _path, "status"});
    ferry::testing::child_process child(argv, _dir.path() + "/client" + std::to_string(_runs++));
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(code.has_value());
    return {code.value_or(-1), child.err()};
  }

  int _runs = 0;
};

TEST_F(ControlSocketPeers, AClientOutsideTheSocketsUserAndGroupIsRefused) {
  auto server = start();  // root:root, 0660
  ASSERT_TRUE(server.ok()) << server.err().message();
  // The file mode keeps it out.
  ran r = ferryctl_as_nobody("65534", "");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;

  // With the mode loosened, SO_PEERCRED still does.
  ASSERT_EQ(::chmod(_path.c_str(), 0666), 0);
  r = ferryctl_as_nobody("65534", "");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("(403): uid 65534 may not use ferryd's control socket"), std::string::npos) << r.err;
  r = ferryctl_as_nobody("65534", "1,2");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("(403)"), std::string::npos) << r.err;
}

TEST_F(ControlSocketPeers, TheSocketsOwnerAndGroupGetIn) {
  {
    auto server = start({std::nullopt, "nogroup"});
    ASSERT_TRUE(server.ok()) << server.err().message();
    ran r = ferryctl_as_nobody("65534", "");  // by its gid, through the file mode too
    EXPECT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(::chmod(_path.c_str(), 0666), 0);
    r = ferryctl_as_nobody("1", "2,65534");  // by a supplementary group
    EXPECT_EQ(r.code, 0) << r.err;
    r = ferryctl_as_nobody("1", "2");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("(403)"), std::string::npos) << r.err;
  }
  auto server = start({"nobody", std::nullopt});
  ASSERT_TRUE(server.ok()) << server.err().message();
  const ran r = ferryctl_as_nobody("1", "");  // as the owner
  EXPECT_EQ(r.code, 0) << r.err;
}

// The API's routing and rendering, without a router.

http_request request(std::string method, std::string path) { return {std::move(method), std::move(path), {}, {}}; }

TEST(ControlApi, ResolvesEveryEndpoint) {
  using endpoint = api_call::endpoint;
  struct expected {
    const char* method;
    const char* path;
    endpoint what;
    const char* route;
  };
  for (const expected& e : std::vector<expected>{
           {"GET", "/status", endpoint::status, ""},
           {"GET", "/stats/", endpoint::stats, ""},
           {"GET", "/routes", endpoint::list_routes, ""},
           {"POST", "/routes", endpoint::add_route, ""},
           {"DELETE", "/routes/eth-%3Esol", endpoint::delete_route, "eth->sol"},
           {"POST", "/routes/a%2Fb/pause", endpoint::pause_route, "a/b"},
           {"POST", "/routes/x/resume", endpoint::resume_route, "x"},
           {"GET", "/peers", endpoint::peers, ""},
           {"GET", "/keys", endpoint::keys, ""},
           {"POST", "/keys/rotate", endpoint::rotate_keys, ""},
           {"POST", "/reload", endpoint::reload, ""},
       }) {
    const auto resolved = resolve_call(request(e.method, e.path));
    ASSERT_TRUE(std::holds_alternative<api_call>(resolved)) << e.method << ' ' << e.path;
    EXPECT_EQ(std::get<api_call>(resolved).what, e.what) << e.path;
    EXPECT_EQ(std::get<api_call>(resolved).route, e.route) << e.path;
  }
}

TEST(ControlApi, RefusesUnknownPathsWrongMethodsAndBadEscapes) {
  struct expected {
    const char* method;
    const char* path;
    int status;
    const char* says;
  };
  for (const expected& e : std::vector<expected>{
           {"GET", "/nothing", 404, "no such path '/nothing'"},
           {"GET", "/routes/", 200, ""},
           {"GET", "/routes/x/explode", 404, "no such path"},
           {"GET", "/routes//pause", 404, "no such path"},
           {"POST", "/status", 405, "POST /status: method not allowed; /status takes GET"},
           {"GET", "/reload", 405, "/reload takes POST"},
           {"DELETE", "/routes", 405, "/routes takes GET or POST"},
           {"GET", "/routes/x", 405, "/routes/x takes DELETE"},
           {"DELETE", "/routes/x/pause", 405, "takes POST"},
           {"DELETE", "/routes/a%zz", 400, "malformed percent escape"},
           {"DELETE", "/routes/a%00", 400, "malformed percent escape"},
       }) {
    const auto resolved = resolve_call(request(e.method, e.path));
    if (e.status == 200) {
      EXPECT_TRUE(std::holds_alternative<api_call>(resolved)) << e.path;
      continue;
    }
    ASSERT_TRUE(std::holds_alternative<http_response>(resolved)) << e.method << ' ' << e.path;
    const http_response& answer = std::get<http_response>(resolved);
    EXPECT_EQ(answer.status, e.status) << e.method << ' ' << e.path;
    EXPECT_NE(json::parse(answer.body)["error"].get<std::string>().find(e.says), std::string::npos) << answer.body;
  }
}

TEST(ControlApi, RendersRoutesAsWritten) {
  route_report exact;
  exact.config.name = "eth";
  exact.config.kind = verify::message_kind::wormhole;
  exact.config.source = 2;
  std::array<std::byte, 32> emitter{};
  emitter[31] = std::byte{0xab};
  exact.config.emitter = emitter;
  hop_config hop;
  hop.udp = *dp::endpoint::parse("127.0.0.1:7701");  // no text kept: rebuilt from the address
  exact.config.hops = {hop};
  exact.config.limit = rate_limit{1000, 100};
  breaker_config breaker;
  breaker.failure_ratio = 0.5;
  exact.config.breaker = breaker;
  exact.stats.matched = 9;
  exact.stats.forwarded = 7;
  exact.stats.breaker = "tripped";
  exact.stats.trips = 1;
  route_report wild;
  wild.config.name = "all";
  wild.config.action = route_action::drop;
  route_report group;
  group.config.name = "fan";
  group.config.kind = verify::message_kind::hyperlane;
  group.config.destination = 42161;
  hop_config a, b;
  a.text = "relayer-a";
  b.how = hop_config::type::unix_sink;
  b.sink_path = "/run/ferry/sink.sock";
  group.config.hops = {a, b};
  group.config.group = "relayers";
  group.config.policy = group_policy::balance;

  const json doc = json::parse(routes_json({exact, wild, group}));
  ASSERT_EQ(doc["routes"].size(), 3u) << doc;
  const json& e = doc["routes"][0];
  EXPECT_EQ(e["name"], "eth");
  EXPECT_EQ(e["kind"], "wormhole");
  EXPECT_EQ(e["source"], 2);
  EXPECT_EQ(e["destination"], "*");
  EXPECT_EQ(e["emitter"], "0x" + std::string(62, '0') + "ab");
  EXPECT_EQ(e["action"], "forward");
  EXPECT_EQ(e["hops"], json::array({"127.0.0.1:7701"}));
  EXPECT_EQ(e["group"], nullptr);
  EXPECT_EQ(e["rate_limit"], json({{"rate", 1000.0}, {"burst", 100}}));
  EXPECT_EQ(e["breaker"]["state"], "tripped");
  EXPECT_EQ(e["breaker"]["trips"], 1);
  EXPECT_EQ(e["breaker"]["settings"]["failure_ratio"], 0.5);
  EXPECT_EQ(e["breaker"]["settings"]["max_messages"], nullptr);
  EXPECT_EQ(e["breaker"]["settings"]["window_ms"], 10000);
  EXPECT_EQ(e["counters"]["matched"], 9);
  EXPECT_EQ(e["counters"]["forwarded"], 7);
  const json& w = doc["routes"][1];
  for (const char* field : {"kind", "source", "destination", "emitter"}) EXPECT_EQ(w[field], "*") << field;
  EXPECT_EQ(w["action"], "drop");
  EXPECT_EQ(w["hops"], json::array());
  EXPECT_EQ(w["rate_limit"], nullptr);
  EXPECT_EQ(w["breaker"], json({{"state", "closed"}, {"trips", 0}, {"settings", nullptr}}));
  const json& g = doc["routes"][2];
  EXPECT_EQ(g["hops"], json::array({"relayer-a", "unix:/run/ferry/sink.sock"}));
  EXPECT_EQ(g["group"], "relayers");
  EXPECT_EQ(g["policy"], "balance");
  EXPECT_EQ(g["destination"], 42161);
}

TEST(ControlApi, RendersPeersAndKeysWithoutSecrets) {
  peer_report peer;
  peer.name = "core-b";
  peer.addresses = {"192.0.2.7:7700"};
  peer.trust = "verified-upstream";
  peer.link_key_ids = {1, 2};
  peer.stats.rx = 5;
  const json peers = json::parse(peers_json({peer}));
  EXPECT_EQ(peers["peers"][0]["name"], "core-b");
  EXPECT_EQ(peers["peers"][0]["link_key_ids"], json::array({1, 2}));
  EXPECT_EQ(peers["peers"][0]["rate_limit"], nullptr);
  EXPECT_EQ(peers["peers"][0]["counters"]["rx"], 5);

  key_report keys;
  keys.wormhole = {{3, 19, 1700000000, false}, {4, 19, 0, true}};
  keys.hyperlane = {{1, 3}};
  keys.links = {{"core-b", 2, "/etc/ferry/link-b.key"}};
  const json doc = json::parse(keys_json(keys));
  EXPECT_EQ(doc["wormhole"][1], json({{"index", 4}, {"keys", 19}, {"expiration_time", 0}, {"current", true}}));
  EXPECT_EQ(doc["hyperlane"][0], json({{"origin", 1}, {"validators", 3}}));
  EXPECT_EQ(doc["layerzero"], json::array());
  EXPECT_EQ(doc["links"][0], json({{"peer", "core-b"}, {"id", 2}, {"file", "/etc/ferry/link-b.key"}}));
  EXPECT_EQ(doc["guardian_set_upgrades"], false);
}

// ferryctl against a stand-in for ferryd that records what it is sent and answers from a script.
class FerryctlClient : public ControlSocket {
 protected:
  void SetUp() override {
    ControlSocket::SetUp();
    auto server = control_server::start_unix(_path, {}, [this](const http_request& request) {
      std::lock_guard<std::mutex> hold(_lock);
      _seen.push_back(request);
      const auto answer = _answers.find(request.method + " " + request.path);
      return answer != _answers.end() ? answer->second : error_response(404, "no such path '" + request.path + "'");
    });
    ASSERT_TRUE(server.ok()) << server.err().message();
    _server = std::move(*server);
  }

  struct ran {
    int code;
    std::string out;
    std::string err;
  };

  ran ferryctl(std::vector<std::string> args, const std::string& socket = {}) {
    std::vector<std::string> argv = ferry::testing::emulator_prefix(FERRY_TEST_EMULATOR);
    argv.insert(argv.end(), {FERRYCTL_PATH, "--socket", socket.empty() ? _path : socket});
    argv.insert(argv.end(), args.begin(), args.end());
    ferry::testing::child_process child(argv, _dir.path() + "/ferryctl" + std::to_string(_runs++));
    EXPECT_TRUE(child.started());
    const auto code = child.wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(code.has_value());
    return {code.value_or(-1), child.out(), child.err()};
  }

  std::vector<http_request> seen() {
    std::lock_guard<std::mutex> hold(_lock);
    return _seen;
  }

  // What the stand-in answers to "METHOD /path" from now on (under the lock: the server thread reads the script).
  void script(const std::string& request, http_response answer) {
    std::lock_guard<std::mutex> hold(_lock);
    _answers[request] = std::move(answer);
  }

  std::mutex _lock;
  std::map<std::string, http_response> _answers;
  std::vector<http_request> _seen;
  std::unique_ptr<control_server> _server;
  int _runs = 0;
};

TEST_F(FerryctlClient, AddsARouteAsTomlAndSaysWhatFerrydRefuses) {
  script("POST /routes", {201, R"({"added":"eth \"main\""})"});
  ran r = ferryctl({"routes", "add", "--name", "eth \"main\"", "--kind", "wormhole", "--source", "2", "--next-hop",
                    "127.0.0.1:7701", "--rate", "1000.5", "--burst", "100"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "added route 'eth \"main\"'\n");
  ASSERT_EQ(seen().size(), 1u);
  EXPECT_EQ(seen()[0].body,
            "name = \"eth \\\"main\\\"\"\nkind = \"wormhole\"\nsource = 2\ndestination = \"*\"\nemitter = \"*\"\n"
            "next_hop = \"127.0.0.1:7701\"\nrate = 1000.5\nburst = 100\n");

  script("POST /routes", error_response(409, "a route named 'x' exists already"));
  r = ferryctl({"routes", "add", "--name", "x", "--kind", "*", "--action", "drop"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ferryctl: ferryd refused POST /routes (409): a route named 'x' exists already\n");
  EXPECT_EQ(seen().back().body,
            "name = \"x\"\nkind = \"*\"\nsource = \"*\"\ndestination = \"*\"\nemitter = \"*\"\naction = \"drop\"\n");

  EXPECT_EQ(ferryctl({"routes", "add", "--kind", "wormhole"}).code, 2) << "--name is required";
  EXPECT_EQ(ferryctl({"routes", "add", "--name", "x", "--kind", "*", "--action", "bounce"}).code, 2);
  EXPECT_EQ(ferryctl({"routes", "add", "--name", "x", "--kind", "*", "--burst", "3"}).code, 2) << "burst needs rate";
  EXPECT_EQ(ferryctl({"routes"}).code, 2);
  EXPECT_EQ(seen().size(), 2u) << "usage errors send nothing";
}

TEST_F(FerryctlClient, NamesRoutesInPathsEscaped) {
  script("POST /routes/eth-%3Esol%2F1/pause", {200, R"({"paused":"eth->sol/1"})"});
  script("POST /routes/eth-%3Esol%2F1/resume", {200, R"({"resumed":"eth->sol/1"})"});
  script("DELETE /routes/eth-%3Esol%2F1", {200, R"({"deleted":"eth->sol/1"})"});
  script("POST /keys/rotate", {200, R"({"rotated":true})"});
  script("POST /reload", {200, R"({"reloaded":true})"});
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"pause", "eth->sol/1"}, {"resume", "eth->sol/1"}, {"routes", "del", "eth->sol/1"}, {"keys", "rotate"},
           {"reload"}}) {
    const ran r = ferryctl(args);
    EXPECT_EQ(r.code, 0) << args[0] << ": " << r.err;
  }
  const ran r = ferryctl({"pause", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ferryctl: ferryd refused POST /routes/nope/pause (404): no such path '/routes/nope/pause'\n");
}

TEST_F(FerryctlClient, PrintsTablesOrTheApisJson) {
  route_report route;
  route.config.name = "eth";
  route.config.kind = verify::message_kind::wormhole;
  route.config.source = 2;
  hop_config hop;
  hop.text = "127.0.0.1:7701";
  route.config.hops = {hop};
  route.config.limit = rate_limit{1000, 100};
  route.stats.matched = 12;
  route.stats.forwarded = 10;
  route.stats.rate_limited = 2;
  route_report drop;
  drop.config.name = "rest";
  drop.config.action = route_action::drop;
  drop.stats.breaker = "paused";
  script("GET /routes", {200, routes_json({route, drop})});
  ran r = ferryctl({"routes", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME  KIND      SOURCE  DEST  EMITTER  ACTION   NEXT HOP        LIMIT             BREAKER  MATCHED  "
            "FORWARDED  DROPPED\n"
            "eth   wormhole  2       *     *        forward  127.0.0.1:7701  1000/s burst 100  closed        12  "
            "       10        2\n"
            "rest  *         *       *     *        drop     -               -                 paused         0  "
            "        0        0\n");
  r = ferryctl({"routes", "list", "--json"});
  EXPECT_EQ(r.out, routes_json({route, drop}) + "\n");

  key_report keys;
  keys.wormhole = {{4, 19, 0, true}};
  keys.links = {{"core-b", 2, "/etc/ferry/link-b.key"}};
  script("GET /keys", {200, keys_json(keys)});
  r = ferryctl({"keys", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "wormhole guardian sets (upgrades from governance VAAs: off)\n"
            "  INDEX  KEYS  EXPIRES  CURRENT\n"
            "      4    19        -  yes\n"
            "hyperlane validator sets\n  none\n"
            "layerzero DVN sets\n  none\n"
            "quorum key sets\n  none\n"
            "link keys\n"
            "  PEER    ID  FILE\n"
            "  core-b   2  /etc/ferry/link-b.key\n");
}

TEST_F(FerryctlClient, WatchesStatsWithRatesSinceTheLastSample) {
  router_stats stats;
  stats.total.rx = 100;
  stats.total.forwarded = 90;
  stats.total.drop(dp::drop_reason::no_route, 10);
  script("GET /stats", {200, stats_json(stats)});
  ran r = ferryctl({"stats", "--watch", "0.2", "--count", "3"});
  EXPECT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines;
  for (std::istringstream in(r.out); std::getline(in, lines.emplace_back());) {
  }
  lines.pop_back();
  ASSERT_EQ(lines.size(), 4u) << r.out;
  const auto words = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string word; in >> word;) out.push_back(word);
    return out;
  };
  EXPECT_EQ(words(lines[0]), (std::vector<std::string>{"TIME", "RECEIVED", "RX/S", "FORWARDED", "FWD/S", "DROPPED",
                                                       "DROP/S", "DROPS/S", "BY", "REASON"}));
  // The first sample has no rates; the next ones show what moved since the one before: nothing.
  const std::vector<std::string> first = words(lines[1]);
  ASSERT_EQ(first.size(), 7u) << lines[1];
  EXPECT_EQ(std::vector<std::string>(first.begin() + 1, first.end()),
            (std::vector<std::string>{"100", "-", "90", "-", "10", "-"}));
  const std::vector<std::string> second = words(lines[2]);
  ASSERT_EQ(second.size(), 7u) << lines[2];
  EXPECT_EQ(std::vector<std::string>(second.begin() + 1, second.end()),
            (std::vector<std::string>{"100", "0", "90", "0", "10", "0"}));
  r = ferryctl({"stats", "--watch", "0.1", "--count", "2", "--json"});
  EXPECT_EQ(r.out, stats_json(stats) + "\n" + stats_json(stats) + "\n");
  EXPECT_EQ(seen().size(), 5u);
  EXPECT_EQ(ferryctl({"stats", "--count", "2"}).code, 2) << "--count needs --watch";
  EXPECT_EQ(ferryctl({"stats", "--watch", "0"}).code, 2);
}

TEST_F(FerryctlClient, SaysWhenFerrydCannotBeReached) {
  const ran r = ferryctl({"peers"}, _dir.path() + "/nothing.sock");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("ferryctl: cannot reach ferryd at " + _dir.path() + "/nothing.sock"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("is ferryd running?"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ferry::ctl
