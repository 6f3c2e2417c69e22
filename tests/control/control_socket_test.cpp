#include "ferry/control/control_socket.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace ferry::ctl {
namespace {

class ControlSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ferry-control-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    _dir = dir;
    _path = _dir + "/ctl/ferryd.sock";  // the server creates the missing directory
  }
  void TearDown() override { std::filesystem::remove_all(_dir); }

  static http_response echo(std::string_view method, std::string_view path) {
    if (path == "/missing") return {404, R"({"error":"no"})"};
    return {200, "{\"method\":\"" + std::string(method) + "\",\"path\":\"" + std::string(path) + "\"}"};
  }

  std::string _dir;
  std::string _path;
};

TEST_F(ControlSocket, AnswersRequests) {
  auto server = control_server::start(_path, echo);
  ASSERT_TRUE(server.ok()) << server.err().message();
  auto response = control_request(_path, "GET", "/stats");
  ASSERT_TRUE(response.ok()) << response.err().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"method\":\"GET\",\"path\":\"/stats\"}\n");
  auto missing = control_request(_path, "GET", "/missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ControlSocket, SocketIsOwnerAndGroupOnlyAndRemovedAtStop) {
  {
    auto server = control_server::start(_path, echo);
    ASSERT_TRUE(server.ok()) << server.err().message();
    struct stat st {};
    ASSERT_EQ(::stat(_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
  }
  EXPECT_FALSE(std::filesystem::exists(_path));
}

TEST_F(ControlSocket, RefusesASecondServerButReplacesAStaleFile) {
  auto first = control_server::start(_path, echo);
  ASSERT_TRUE(first.ok()) << first.err().message();
  auto second = control_server::start(_path, echo);
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
  auto third = control_server::start(_path, echo);
  ASSERT_TRUE(third.ok()) << third.err().message();
  EXPECT_TRUE(control_request(_path, "GET", "/x").ok());
}

TEST_F(ControlSocket, AnswersGarbageWithBadRequest) {
  auto server = control_server::start(_path, echo);
  ASSERT_TRUE(server.ok());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", _path.c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const char garbage[] = "hello\r\n\r\n";
  ASSERT_EQ(::write(fd, garbage, sizeof garbage - 1), static_cast<ssize_t>(sizeof garbage - 1));
  char reply[256] = {};
  const ssize_t got = ::read(fd, reply, sizeof reply - 1);
  ::close(fd);
  ASSERT_GT(got, 0);
  EXPECT_EQ(std::string(reply).rfind("HTTP/1.1 400 Bad Request", 0), 0u) << reply;
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

TEST_F(ControlSocket, ClientSaysWhenNobodyIsThere) {
  auto response = control_request(_path, "GET", "/stats", 500);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.err().message().find("is ferryd running?"), std::string::npos) << response.err().message();
  EXPECT_FALSE(control_request(std::string(200, 'x'), "GET", "/", 500).ok());
}

}  // namespace
}  // namespace ferry::ctl
