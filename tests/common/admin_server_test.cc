#include "common/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "common/asio.h"

namespace cairn {
namespace {

// A raw TCP exchange: send `req`, read until the server closes.
std::string http_exchange(uint16_t port, const std::string& req) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  EXPECT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<AdminServer>(io_, metrics_);
    metrics_.counter("cairn_test_ops_total", "ops").inc(7);
    server_->register_command("echo", "echo the arguments", [](const std::vector<std::string>& a) {
      return Result<std::string>(nlohmann::json(a).dump());
    });
    server_->register_command("fail", "always fails", [](const std::vector<std::string>&) {
      return Result<std::string>(Errc::kBusy, "no");
    });
    ASSERT_TRUE(server_->start_http("127.0.0.1", 0).ok());
    sock_ = "/tmp/cairn-admin-test-" + std::to_string(::getpid()) + ".sock";
    ASSERT_TRUE(server_->start_admin_socket(sock_).ok());
    work_.emplace(asio::make_work_guard(io_));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }
  asio::io_context io_;
  MetricsRegistry metrics_;
  std::unique_ptr<AdminServer> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::string sock_;
};

TEST_F(AdminServerTest, ServesMetricsAndHealth) {
  std::string r = http_exchange(server_->http_port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find("cairn_test_ops_total 7\n"), std::string::npos);
  EXPECT_NE(http_exchange(server_->http_port(), "GET /health HTTP/1.0\r\n\r\n").find("ok"),
            std::string::npos);
}

TEST_F(AdminServerTest, BadHttpRequestsGetErrorsAndServerKeepsServing) {
  EXPECT_NE(http_exchange(server_->http_port(), "GET /nope HTTP/1.1\r\n\r\n").find("404"), std::string::npos);
  EXPECT_NE(http_exchange(server_->http_port(), "POST /metrics HTTP/1.1\r\n\r\n").find("405"),
            std::string::npos);
  EXPECT_NE(http_exchange(server_->http_port(), "garbage\r\n\r\n").find("400"), std::string::npos);
  EXPECT_NE(http_exchange(server_->http_port(), std::string(20000, 'A')).find("400"), std::string::npos);
  EXPECT_NE(http_exchange(server_->http_port(), "GET /metrics").find("400"), std::string::npos);  // truncated
  EXPECT_NE(http_exchange(server_->http_port(), "GET /metrics HTTP/1.1\r\n\r\n").find("200 OK"),
            std::string::npos);
}

TEST_F(AdminServerTest, AdminSocketCommands) {
  auto r = admin_socket_request(sock_, "echo a b");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, "[\"a\",\"b\"]\n");
  auto help = nlohmann::json::parse(*admin_socket_request(sock_, "help"));
  EXPECT_EQ(help["echo"], "echo the arguments");
  EXPECT_NE(admin_socket_request(sock_, "nosuch")->find("unknown command"), std::string::npos);
  EXPECT_NE(admin_socket_request(sock_, "fail")->find("EBUSY"), std::string::npos);
  EXPECT_NE(admin_socket_request(sock_, std::string(10000, 'x'))->find("error"), std::string::npos);
  EXPECT_EQ(admin_socket_request("/tmp/definitely-not-a-socket", "help").code(), Errc::kNotFound);
}

}  // namespace
}  // namespace cairn
