// Messenger over real loopback sockets: request/response, many connections, a
// 64 MiB message, per-op timeouts, lossy close.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/checksum.h"
#include "msg_test_util.h"

namespace cairn::msg {
namespace {

using namespace std::chrono_literals;
using testing::Node;

// Echo server: replies to every ping with the same front and data.
void install_echo(Node& n) {
  n.table().on(kMsgTestPing, [](const ConnectionRef& c, Message m) {
    Message r;
    r.type = kMsgTestPong;
    r.front = m.front;
    r.data = m.data;
    EXPECT_TRUE(c->reply(m, std::move(r)).ok());
  });
}

awaitable<Result<Message>> do_request(ConnectionRef c, Message m, std::chrono::milliseconds t) {
  co_return co_await c->request(std::move(m), t);
}

TEST(Messenger, RequestReplyBothPolicies) {
  Node server("osd.1"), client("osd.2");
  install_echo(server);
  server.start();
  client.start();
  for (Policy p : {Policy::kLossless, Policy::kLossy}) {
    auto c = client.connect(server.inst(), p);
    for (int i = 0; i < 20; ++i) {
      auto r = client.run<Result<Message>>(
          [&] { return do_request(c, testing::text_msg(kMsgTestPing, "hi" + std::to_string(i)), 5000ms); });
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      EXPECT_EQ(r->type, kMsgTestPong);
      EXPECT_EQ(r->front.to_string(), "hi" + std::to_string(i));
    }
    EXPECT_EQ(c->peer_name().to_string(), "osd.1");
  }
}

awaitable<int> many_requests(std::vector<ConnectionRef> conns) {
  int ok = 0;
  for (auto& c : conns) {
    auto r = co_await c->request(testing::text_msg(kMsgTestPing, "x"), 5000ms);
    if (r.ok()) ++ok;
  }
  co_return ok;
}

TEST(Messenger, FiftyConnections) {
  Node server("osd.1");
  install_echo(server);
  server.start();
  std::vector<std::unique_ptr<Node>> clients;
  std::vector<ConnectionRef> conns;
  for (int i = 0; i < 50; ++i) {
    auto name = "client." + std::to_string(i);
    clients.push_back(std::make_unique<Node>(name.c_str(), testing::fast_options(), false));
    clients.back()->start();
    conns.push_back(clients.back()->connect(server.inst(), Policy::kLossy));
  }
  int total = 0;
  for (int i = 0; i < 50; ++i) {
    total += clients[i]->run<int>([&] { return many_requests({conns[i]}); });
  }
  EXPECT_EQ(total, 50);
  EXPECT_TRUE(testing::eventually([&] { return server.m().num_connections() == 50; }));
  // Many connections from one messenger to the same peer are independent too.
  std::vector<ConnectionRef> more;
  for (int i = 0; i < 50; ++i) more.push_back(clients[0]->connect(server.inst(), Policy::kLossy));
  EXPECT_EQ(clients[0]->run<int>([&] { return many_requests(more); }), 50);
}

TEST(Messenger, SixtyFourMiBRoundTrip) {
  Node server("osd.1"), client("osd.2");
  install_echo(server);
  server.start();
  client.start();
  const size_t len = 64u << 20;
  BufferPtr p = BufferPtr::create(len);
  for (size_t i = 0; i < len; ++i) p.data()[i] = static_cast<char>(i * 131 + (i >> 12));
  BufferList data(p);
  uint32_t crc = crc32c(0, data);
  auto c = client.connect(server.inst(), Policy::kLossless);
  auto r = client.run<Result<Message>>(
      [&] { return do_request(c, testing::text_msg(kMsgTestPing, "big", data), 20000ms); });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->data.size(), len);
  EXPECT_EQ(r->data.num_segments(), 1u);  // the data segment was read into one buffer
  EXPECT_EQ(crc32c(0, r->data), crc);
}

// max_client_bytes: a server holding client requests stops reading that client's
// connection at the bound (memory stays bounded; TCP pushes back), stays
// connected however long that lasts, and reads on as the requests are released.
TEST(Messenger, ClientBytesBoundPausesReadingUntilReleased) {
  MessengerOptions so = testing::fast_options();
  so.max_client_bytes = 1u << 20;
  Node server("osd.1", so), client("client.1", testing::fast_options(), false);
  std::mutex mu;
  std::vector<Message> held;
  server.table().on(kMsgTestPing, [&](const ConnectionRef&, Message m) {
    std::lock_guard lock(mu);
    held.push_back(std::move(m));
  });
  server.start();
  client.start();
  auto count = [&] {
    std::lock_guard lock(mu);
    return held.size();
  };
  auto c = client.connect(server.inst(), Policy::kLossy);
  constexpr int kMsgs = 10;
  for (int i = 0; i < kMsgs; ++i) {
    BufferList data = BufferList::copy_of(std::string(512 * 1024, static_cast<char>('a' + i)));
    ASSERT_TRUE(c->send(testing::text_msg(kMsgTestPing, std::to_string(i), data)).ok()) << i;
  }
  ASSERT_TRUE(testing::eventually([&] { return count() >= 2; }));
  // Longer than the keepalive timeout (2 s): the paused connection must survive it.
  std::this_thread::sleep_for(3000ms);
  EXPECT_LE(count(), 3u) << "reading went on past the bound";
  EXPECT_GE(server.m().client_bytes_held(), 1u << 20);
  EXPECT_GE(server.m().client_throttle_waits(), 1u);
  EXPECT_TRUE(c->is_open());
  // Release as they come: everything arrives, in order and intact.
  std::vector<Message> all;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (all.size() < kMsgs && std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      for (auto& m : held) all.push_back(std::move(m));
      held.clear();
    }
    for (auto& m : all) m.hold.reset();  // released: the bytes no longer count
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kMsgs));
  for (int i = 0; i < kMsgs; ++i) {
    EXPECT_EQ(all[i].front.to_string(), std::to_string(i));
    EXPECT_TRUE(all[i].data == std::string(512 * 1024, static_cast<char>('a' + i))) << i;
  }
  EXPECT_TRUE(testing::eventually([&] { return server.m().client_bytes_held() == 0; }));
}

TEST(Messenger, PerOpTimeout) {
  Node server("osd.1"), client("osd.2");
  server.table().on(kMsgTestPing, [](const ConnectionRef&, Message) {});  // never replies
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossless);
  auto t0 = std::chrono::steady_clock::now();
  auto r =
      client.run<Result<Message>>([&] { return do_request(c, testing::text_msg(kMsgTestPing, "x"), 200ms); });
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.code(), Errc::kTimedOut);
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2000ms);
}

TEST(Messenger, LossyDropFailsPendingRequests) {
  Node server("osd.1"), client("client.x", testing::fast_options(), false);
  server.table().on(kMsgTestPing, [](const ConnectionRef& c, Message) { c->close(); });
  std::atomic<int> closed{0};
  client.table().on_close([&](const ConnectionRef&, const Status&) { ++closed; });
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossy);
  auto r = client.run<Result<Message>>(
      [&] { return do_request(c, testing::text_msg(kMsgTestPing, "x"), 10000ms); });
  EXPECT_EQ(r.code(), Errc::kConnReset) << r.status().to_string();
  EXPECT_FALSE(c->is_open());
  EXPECT_TRUE(testing::eventually([&] { return closed.load() == 1; }));
  EXPECT_EQ(c->send(testing::text_msg(kMsgTestPing, "y")).code(), Errc::kConnReset);
}

TEST(Messenger, ConnectToNobodyLossyFails) {
  Node client("client.x", testing::fast_options(), false);
  client.start();
  // A port nobody listens on: bind one, then close it.
  EntityAddr dead;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead = EntityAddr{"127.0.0.1", a.local_endpoint().port()};
  }
  auto c = client.connect(EntityInst{testing::name("osd.9"), dead}, Policy::kLossy);
  auto r = client.run<Result<Message>>(
      [&] { return do_request(c, testing::text_msg(kMsgTestPing, "x"), 5000ms); });
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(testing::eventually([&] { return !c->is_open(); }));
}

}  // namespace
}  // namespace cairn::msg
