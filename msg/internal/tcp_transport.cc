// TCP on Asio. Every Asio error is turned into a Status here: nothing throws out.
#include "msg/tcp_transport.h"

#include <vector>

namespace cairn::msg {
namespace {

using tcp = asio::ip::tcp;
using boost::system::error_code;

Status from_ec(const error_code& ec, const char* what) {
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
    return Status(Errc::kShutdown, std::string(what) + ": closed locally");
  }
  if (ec == asio::error::timed_out) return Status(Errc::kTimedOut, std::string(what) + ": timed out");
  return Status(Errc::kConnReset, std::string(what) + ": " + ec.message());
}

class TcpStream final : public Stream {
 public:
  explicit TcpStream(tcp::socket s) : sock_(std::move(s)) {
    error_code ec;
    sock_.set_option(tcp::no_delay(true), ec);
    auto ep = sock_.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~TcpStream() override { close(); }

  awaitable<Result<size_t>> read_some(void* buf, size_t len) override {
    error_code ec;
    size_t n =
        co_await sock_.async_read_some(asio::buffer(buf, len), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return from_ec(ec, "read");
    co_return n;
  }

  awaitable<Status> read_exact(void* buf, size_t len) override {
    error_code ec;
    co_await asio::async_read(sock_, asio::buffer(buf, len), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return from_ec(ec, "read");
    co_return ok_status();
  }

  awaitable<Status> write_all(std::span<const iovec> bufs) override {
    std::vector<asio::const_buffer> seq;
    seq.reserve(bufs.size());
    for (const iovec& v : bufs) seq.emplace_back(v.iov_base, v.iov_len);
    error_code ec;
    co_await asio::async_write(sock_, seq, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return from_ec(ec, "write");
    co_return ok_status();
  }

  void close() override {
    error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }
  std::string remote() const override { return remote_; }

 private:
  tcp::socket sock_;
  std::string remote_;
};

class TcpListener final : public Listener {
 public:
  TcpListener(tcp::acceptor a, EntityAddr local) : acc_(std::move(a)), local_(std::move(local)) {}
  ~TcpListener() override { close(); }

  awaitable<Result<std::unique_ptr<Stream>>> accept() override {
    error_code ec;
    tcp::socket s = co_await acc_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return from_ec(ec, "accept");
    co_return std::unique_ptr<Stream>(std::make_unique<TcpStream>(std::move(s)));
  }
  EntityAddr local_addr() const override { return local_; }
  void close() override {
    error_code ec;
    acc_.close(ec);
  }

 private:
  tcp::acceptor acc_;
  EntityAddr local_;
};

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::io_context& io) : io_(io) {}

  Result<std::unique_ptr<Listener>> listen(const EntityAddr& addr) override {
    error_code ec;
    auto ip = asio::ip::make_address(addr.host, ec);
    if (ec) return Status(Errc::kInvalid, "listen: bad address " + addr.to_string());
    tcp::endpoint ep(ip, addr.port);
    tcp::acceptor acc(io_);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status(Errc::kInvalid, "listen on " + addr.to_string() + ": " + ec.message());
    EntityAddr local{addr.host, acc.local_endpoint(ec).port()};
    return std::unique_ptr<Listener>(std::make_unique<TcpListener>(std::move(acc), std::move(local)));
  }

  awaitable<Result<std::unique_ptr<Stream>>> connect(const EntityAddr& addr,
                                                     std::chrono::milliseconds timeout) override {
    error_code ec;
    auto ip = asio::ip::make_address(addr.host, ec);
    if (ec) co_return Status(Errc::kInvalid, "connect: bad address " + addr.to_string());
    // The socket is shared with the deadline's handler, which may run after this frame is gone.
    auto sock = std::make_shared<tcp::socket>(io_);
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer deadline(io_, timeout);
    deadline.async_wait([sock, timed_out](const error_code& e) {
      if (e) return;
      *timed_out = true;
      error_code ignored;
      sock->close(ignored);
    });
    co_await sock->async_connect(tcp::endpoint(ip, addr.port), asio::redirect_error(asio::use_awaitable, ec));
    deadline.cancel();
    if (*timed_out) co_return Status(Errc::kTimedOut, "connect to " + addr.to_string() + ": timed out");
    if (ec) co_return from_ec(ec, "connect").with_context(addr.to_string());
    co_return std::unique_ptr<Stream>(std::make_unique<TcpStream>(std::move(*sock)));
  }

 private:
  asio::io_context& io_;
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(asio::io_context& io) {
  return std::make_unique<TcpTransport>(io);
}

}  // namespace cairn::msg
