#include "common/admin_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/asio.h"
#include "common/log.h"

namespace cairn {
namespace {

// Bounds on what a client may send; past them the request is refused.
constexpr size_t kMaxHttpHeader = 8192;
constexpr size_t kMaxCommandLine = 4096;
constexpr int kMaxConnections = 64;    // concurrent; more are closed at once
constexpr size_t kMaxDrain = 1 << 20;  // bytes read and dropped after an error reply
// A whole exchange must finish in this time (slow or idle clients cannot hold a slot).
constexpr auto kRequestDeadline = std::chrono::seconds(5);

using tcp = asio::ip::tcp;
using unix_stream = asio::local::stream_protocol;

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur)), cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string http_response(int code, const char* reason, const std::string& type, const std::string& body) {
  char head[256];
  std::snprintf(head, sizeof head,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                code, reason, type.c_str(), body.size());
  return head + body;
}

}  // namespace

struct AdminServer::Impl {
  asio::io_context& io;
  MetricsRegistry& metrics;
  std::map<std::string, std::pair<std::string, Handler>> commands;
  std::unique_ptr<tcp::acceptor> http;
  std::unique_ptr<unix_stream::acceptor> admin;
  std::string admin_path;
  int connections = 0;

  Impl(asio::io_context& i, MetricsRegistry& m) : io(i), metrics(m) {}

  std::string http_reply(const std::string& req) {
    size_t sp1 = req.find(' ');
    size_t sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
    if (sp2 == std::string::npos) return http_response(400, "Bad Request", "text/plain", "bad request\n");
    std::string method = req.substr(0, sp1), path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    if (method != "GET") return http_response(405, "Method Not Allowed", "text/plain", "GET only\n");
    if (path == "/metrics") return http_response(200, "OK", "text/plain; version=0.0.4", metrics.render());
    if (path == "/health") return http_response(200, "OK", "text/plain", "ok\n");
    return http_response(404, "Not Found", "text/plain", "not found\n");
  }

  // Closes `sock` if the exchange is still going after kRequestDeadline. The
  // coroutine owning the socket sets *finished before it ends, and the handler
  // touches the socket only if it did not (a handler may already be queued when
  // the coroutine finishes, so cancelling the timer alone is not enough).
  template <typename Socket>
  static std::shared_ptr<bool> arm_deadline(asio::steady_timer& t, Socket& sock) {
    auto finished = std::make_shared<bool>(false);
    t.expires_after(kRequestDeadline);
    t.async_wait([&sock, finished](const boost::system::error_code& ec) {
      if (!ec && !*finished) {
        boost::system::error_code ignored;
        sock.close(ignored);
      }
    });
    return finished;
  }

  awaitable<void> serve_http(tcp::socket sock) {
    asio::steady_timer deadline(io);
    auto finished = arm_deadline(deadline, sock);
    boost::system::error_code ec;
    std::string buf;
    auto dyn = asio::dynamic_buffer(buf, kMaxHttpHeader);
    co_await asio::async_read_until(sock, dyn, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    std::string reply =
        ec ? http_response(400, "Bad Request", "text/plain", "bad or oversized request\n") : http_reply(buf);
    co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    // Half-close, then drain (bounded) what the client still sends, so closing
    // does not reset the connection before the client has read the reply.
    sock.shutdown(tcp::socket::shutdown_send, ec);
    char sink[4096];
    for (size_t drained = 0; !ec && drained < kMaxDrain;) {
      drained +=
          co_await sock.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    }
    *finished = true;
    deadline.cancel();
    --connections;
  }

  awaitable<void> serve_admin(unix_stream::socket sock) {
    asio::steady_timer deadline(io);
    auto finished = arm_deadline(deadline, sock);
    boost::system::error_code ec;
    std::string buf;
    auto dyn = asio::dynamic_buffer(buf, kMaxCommandLine);
    co_await asio::async_read_until(sock, dyn, "\n", asio::redirect_error(asio::use_awaitable, ec));
    std::string reply = ec && ec != asio::error::eof
                            ? nlohmann::json{{"error", "bad or oversized command line"}}.dump()
                            : run(buf);
    reply += "\n";
    co_await asio::async_write(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    *finished = true;
    deadline.cancel();
    --connections;
  }

  template <typename Acceptor, typename Serve>
  awaitable<void> accept_loop(Acceptor& acc, Serve serve) {
    for (;;) {
      boost::system::error_code ec;
      auto sock = co_await acc.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acc.is_open()) co_return;
      if (ec) continue;
      if (connections >= kMaxConnections) continue;  // the socket closes as it leaves scope
      ++connections;
      asio::co_spawn(io, (this->*serve)(std::move(sock)), asio::detached);
    }
  }

  std::string run(const std::string& line) {
    auto words = split_words(line);
    if (words.empty()) return nlohmann::json{{"error", "empty command"}}.dump();
    if (words[0] == "help") {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [name, c] : commands) j[name] = c.first;
      return j.dump();
    }
    auto it = commands.find(words[0]);
    if (it == commands.end())
      return nlohmann::json{{"error", "unknown command '" + words[0] + "' (try help)"}}.dump();
    words.erase(words.begin());
    auto r = it->second.second(words);
    if (!r.ok()) return nlohmann::json{{"error", r.status().to_string()}}.dump();
    return *r;
  }
};

AdminServer::AdminServer(asio::io_context& io, MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(io, metrics)) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::register_command(const std::string& name, const std::string& help, Handler h) {
  impl_->commands[name] = {help, std::move(h)};
}

Status AdminServer::start_http(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return error(Errc::kInvalid, "bad metrics address '" + host + "'");
  auto acc = std::make_unique<tcp::acceptor>(impl_->io);
  tcp::endpoint ep(addr, port);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return error(Errc::kBusy, "metrics endpoint " + host + ":" + std::to_string(port) + ": " + ec.message());
  impl_->http = std::move(acc);
  asio::co_spawn(impl_->io, impl_->accept_loop(*impl_->http, &Impl::serve_http), asio::detached);
  return {};
}

Status AdminServer::start_admin_socket(const std::string& path) {
  ::unlink(path.c_str());
  boost::system::error_code ec;
  auto acc = std::make_unique<unix_stream::acceptor>(impl_->io);
  unix_stream::endpoint ep(path);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error(Errc::kInvalid, "admin socket " + path + ": " + ec.message());
  impl_->admin = std::move(acc);
  impl_->admin_path = path;
  asio::co_spawn(impl_->io, impl_->accept_loop(*impl_->admin, &Impl::serve_admin), asio::detached);
  return {};
}

uint16_t AdminServer::http_port() const {
  boost::system::error_code ec;
  return impl_->http ? impl_->http->local_endpoint(ec).port() : 0;
}

void AdminServer::stop() {
  boost::system::error_code ec;
  if (impl_->http) impl_->http->close(ec);
  if (impl_->admin) {
    impl_->admin->close(ec);
    ::unlink(impl_->admin_path.c_str());
  }
}

std::string AdminServer::run_command_line(const std::string& line) { return impl_->run(line); }

Result<std::string> admin_socket_request(const std::string& path, const std::string& line, int timeout_ms) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(Errc::kInternal, "socket failed");
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof(sa.sun_path)) {
    ::close(fd);
    return Status(Errc::kInvalid, "admin socket path too long");
  }
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return Status(Errc::kNotFound, "cannot connect to admin socket " + path);
  }
  std::string msg = line + "\n";
  if (::write(fd, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
    ::close(fd);
    return Status(Errc::kConnReset, "write to admin socket failed");
  }
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      ::close(fd);
      return Status(Errc::kTimedOut, "admin socket did not answer");
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace cairn
