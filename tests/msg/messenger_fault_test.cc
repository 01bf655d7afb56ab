// Messenger under faults: lossless resend across reconnects, injected cut /
// drop / delay, a peer killed mid-message, backpressure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "msg/internal/hello.h"
#include "msg_test_util.h"

namespace cairn::msg {
namespace {

using namespace std::chrono_literals;
using testing::Node;

struct Recorder {
  std::mutex mu;
  std::vector<uint64_t> seen;  // guarded by mu
  void install(Node& n) {
    n.table().on(kMsgTestData, [this](const ConnectionRef&, Message m) {
      std::lock_guard lk(mu);
      seen.push_back(std::stoull(m.front.to_string()));
    });
  }
  size_t size() {
    std::lock_guard lk(mu);
    return seen.size();
  }
};

awaitable<Status> send_numbered(ConnectionRef c, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; ++i) {
    CAIRN_CO_RETURN_IF_ERROR(
        co_await c->send_wait(testing::text_msg(kMsgTestData, std::to_string(i)), 10000ms));
  }
  co_return ok_status();
}

awaitable<Result<Message>> do_request(ConnectionRef c, Message m, std::chrono::milliseconds t) {
  co_return co_await c->request(std::move(m), t);
}

void expect_exactly_in_order(Recorder& r, uint64_t n) {
  std::lock_guard lk(r.mu);
  ASSERT_EQ(r.seen.size(), n);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(r.seen[i], i) << "at " << i;
}

// Random frame drops make the receiver see sequence gaps, close, and the sender
// reconnect and resend: every message arrives once, in order.
TEST(Lossless, InOrderResendUnderDropsAndCuts) {
  Node server("osd.1"), client("osd.2");
  Recorder rec;
  rec.install(server);
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossless);
  const uint64_t n = 3000;
  client.m().faults().drop(server.m().name(), 0.01);
  auto sender = std::async(std::launch::async,
                           [&] { return client.run<Status>([&] { return send_numbered(c, 0, n); }); });
  // Cut the link from both ends a few times while traffic flows.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(30ms);
    server.m().faults().cut(client.m().name());
    std::this_thread::sleep_for(30ms);
    server.m().faults().clear(client.m().name());
  }
  ASSERT_TRUE(sender.get().ok());
  client.m().faults().clear_all();
  ASSERT_TRUE(testing::eventually([&] { return rec.size() >= n; }, 20000ms)) << rec.size();
  std::this_thread::sleep_for(100ms);  // a late duplicate would show up here
  expect_exactly_in_order(rec, n);
  auto st = c->stats();
  EXPECT_GT(st.reconnects, 0u);
  EXPECT_GT(st.msgs_resent, 0u);
  EXPECT_TRUE(testing::eventually([&] { return c->stats().inflight_bytes == 0; }));  // acks trimmed the queue
}

// Messages queued while the peer is cut off are delivered after the cut ends.
TEST(Lossless, QueuedDuringCutDeliveredAfter) {
  Node server("osd.1"), client("osd.2");
  Recorder rec;
  rec.install(server);
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossless);
  ASSERT_TRUE(client.run<Status>([&] { return send_numbered(c, 0, 10); }).ok());
  ASSERT_TRUE(testing::eventually([&] { return rec.size() == 10; }));
  client.m().faults().cut(server.m().name());
  ASSERT_TRUE(client.run<Status>([&] { return send_numbered(c, 10, 200); }).ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rec.size(), 10u);
  client.m().faults().clear(server.m().name());
  ASSERT_TRUE(testing::eventually([&] { return rec.size() == 200; }));
  expect_exactly_in_order(rec, 200);
}

TEST(Faults, CutDropDelay) {
  Node server("osd.1"), client("client.a", testing::fast_options(), false);
  server.table().on(kMsgTestPing, [](const ConnectionRef& c, Message m) {
    EXPECT_TRUE(c->reply(m, testing::text_msg(kMsgTestPong, "pong")).ok());
  });
  server.start();
  client.start();
  const EntityName srv = server.m().name();
  auto ping = [&](ConnectionRef c, std::chrono::milliseconds t) {
    return client.run<Result<Message>>(
        [&] { return do_request(c, testing::text_msg(kMsgTestPing, "p"), t); });
  };
  auto c = client.connect(server.inst(), Policy::kLossy);
  ASSERT_TRUE(ping(c, 5000ms).ok());

  // Drop everything: the request times out, the connection stays up.
  client.m().faults().drop(srv, 1.0);
  EXPECT_EQ(ping(c, 200ms).code(), Errc::kTimedOut);
  client.m().faults().clear(srv);
  EXPECT_TRUE(ping(c, 5000ms).ok());

  // Delay: the round trip takes at least the delay.
  client.m().faults().delay(srv, 150ms);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(ping(c, 5000ms).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  client.m().faults().clear(srv);

  // Cut: the lossy connection is closed at once and new ones are refused until cleared.
  client.m().faults().cut(srv);
  EXPECT_TRUE(testing::eventually([&] { return !c->is_open(); }));
  auto c2 = client.connect(server.inst(), Policy::kLossy);
  EXPECT_FALSE(ping(c2, 1000ms).ok());
  client.m().faults().clear(srv);
  auto c3 = client.connect(server.inst(), Policy::kLossy);
  EXPECT_TRUE(ping(c3, 5000ms).ok());

  // A cut made on the server's side refuses the client's handshake.
  server.m().faults().cut(client.m().name());
  auto c4 = client.connect(server.inst(), Policy::kLossy);
  EXPECT_FALSE(ping(c4, 1000ms).ok());
  server.m().faults().clear_all();
}

// A peer process killed while sending a 64 MiB message: the server logs the
// close, reports it, and keeps serving.
TEST(Messenger, PeerKilledMidMessage) {
  Node server("osd.1");
  std::atomic<int> closed{0};
  std::atomic<int> got{0};
  server.table().on_close([&](const ConnectionRef& c, const Status&) {
    if (c->peer_name().to_string() == "client.doomed") ++closed;
  });
  server.table().on(kMsgTestPing, [&](const ConnectionRef& c, Message m) {
    ++got;
    (void)c->reply(m, testing::text_msg(kMsgTestPong, "ok"));
  });
  server.start();
  // Bytes the child sends: a hello, then the header and the first 8 MiB of a 64 MiB message.
  internal::Hello h;
  h.name = testing::name("client.doomed");
  h.policy = Policy::kLossy;
  h.session_id = 5;
  std::string bytes =
      encode_frame(FrameHeader{.type = kMsgHello}, encode_to_buffer(h), BufferList()).to_string();
  FrameHeader big{.type = kMsgTestData, .data_len = 64u << 20};
  char hdr[kFrameHeaderSize];
  encode_frame_header(big, hdr);
  bytes.append(hdr, sizeof hdr);
  bytes.append(8u << 20, 'z');
  uint16_t port = server.inst().addr.port;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) _exit(1);
    for (size_t off = 0; off < bytes.size();) {
      ssize_t w = write(fd, bytes.data() + off, bytes.size() - off);
      if (w <= 0) _exit(1);
      off += static_cast<size_t>(w);
    }
    pause();  // wait to be killed mid-message
    _exit(0);
  }
  ASSERT_TRUE(testing::eventually([&] { return server.m().num_connections() == 1; }));
  std::this_thread::sleep_for(50ms);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(testing::eventually([&] { return closed.load() == 1; }));
  EXPECT_TRUE(testing::eventually([&] { return server.m().num_connections() == 0; }));
  // The server still serves others.
  Node client("client.ok", testing::fast_options(), false);
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossy);
  auto r = client.run<Result<Message>>(
      [&] { return do_request(c, testing::text_msg(kMsgTestPing, "p"), 5000ms); });
  EXPECT_TRUE(r.ok()) << r.status().to_string();
}

// Garbage on the wire closes that connection only.
TEST(Messenger, CorruptFrameClosesConnection) {
  Node server("osd.1");
  server.start();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(server.inst().addr.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string junk(200, 'J');
  ASSERT_EQ(write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  char buf[16];
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_LE(read(fd, buf, sizeof buf), 0);  // the server hung up
  close(fd);
}

// A peer that stops answering (its thread is stuck): keepalives go unanswered,
// the lossless link is dropped and re-established, and nothing is lost.
TEST(Keepalive, UnresponsivePeerIsDroppedAndReconnected) {
  auto opts = testing::fast_options();
  opts.keepalive_interval = 50ms;
  opts.keepalive_timeout = 300ms;
  Node server("osd.1", opts), client("osd.2", opts);
  Recorder rec;
  std::atomic<bool> stall{true};
  server.table().on(kMsgTestData, [&](const ConnectionRef&, Message m) {
    if (m.front.to_string() == "0" && stall.exchange(false)) std::this_thread::sleep_for(1000ms);
    std::lock_guard lk(rec.mu);
    rec.seen.push_back(std::stoull(m.front.to_string()));
  });
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossless);
  ASSERT_TRUE(client.run<Status>([&] { return send_numbered(c, 0, 50); }).ok());
  ASSERT_TRUE(testing::eventually([&] { return rec.size() == 50; }));
  // The frames sent before the drop may all arrive from the old socket's buffer;
  // the new link comes up just after.
  EXPECT_TRUE(testing::eventually([&] { return c->stats().reconnects >= 1; }));
  expect_exactly_in_order(rec, 50);
}

// A peer that stops reading: the sender's memory stays under the in-flight bound.
TEST(Backpressure, SlowPeerBoundsInflightBytes) {
  auto opts = testing::fast_options();
  opts.max_inflight_bytes = 4u << 20;
  opts.keepalive_timeout = 20000ms;
  Node server("osd.1"), client("osd.2", opts);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> got{0};
  server.table().on(kMsgTestData, [&](const ConnectionRef&, Message) {
    if (got++ == 0) {  // block the server's thread: it stops reading
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return release; });
    }
  });
  server.start();
  client.start();
  auto c = client.connect(server.inst(), Policy::kLossless);
  const size_t msg_size = 1u << 20;
  int accepted = 0;
  Status last;
  for (int i = 0; i < 200; ++i) {
    last = c->send(testing::text_msg(kMsgTestData, "x", BufferList(BufferPtr::zeroed(msg_size))));
    if (!last.ok()) break;
    ++accepted;
  }
  EXPECT_EQ(last.code(), Errc::kAgain);
  EXPECT_LE(c->stats().inflight_bytes, opts.max_inflight_bytes + msg_size + 4096);
  EXPECT_LE(c->stats().max_inflight_bytes_seen, opts.max_inflight_bytes + msg_size + 4096);
  EXPECT_LT(accepted, 10);
  {
    std::lock_guard lk(mu);
    release = true;
  }
  cv.notify_all();
  // Once the peer reads again, waiting senders get through.
  auto st = client.run<Status>([&]() -> awaitable<Status> {
    return [](ConnectionRef c, size_t sz) -> awaitable<Status> {
      for (int i = 0; i < 20; ++i) {
        CAIRN_CO_RETURN_IF_ERROR(co_await c->send_wait(
            testing::text_msg(kMsgTestData, "y", BufferList(BufferPtr::zeroed(sz))), 10000ms));
      }
      co_return ok_status();
    }(c, msg_size);
  });
  EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(testing::eventually([&] { return got.load() == accepted + 20; }));
  EXPECT_LE(c->stats().max_inflight_bytes_seen, opts.max_inflight_bytes + msg_size + 4096);
}

}  // namespace
}  // namespace cairn::msg
