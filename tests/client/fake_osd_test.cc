// The client library against a fake monitor (serves the osdmap) and a fake OSD
// (answers ops as each test scripts it) on loopback: resends keep their tid,
// EAGAIN/ESTALE/resets are retried, timeouts end an op, listing walks every PG
// page by page, watch callbacks answer notifies, aio and coroutine ops complete.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

#include "client/rados.h"
#include "client/rados_async.h"
#include "crush/builder.h"
#include "crush/osd_map.h"
#include "msg/mon_messages.h"
#include "msg/osd_messages.h"
#include "tests/msg/msg_test_util.h"

namespace cairn::client {
namespace {

using msg::ConnectionRef;
using msg::Message;
using msg::OsdOpCode;
using msg::OsdOpMsg;
using msg::testing::eventually;
using msg::testing::Node;
using namespace std::chrono_literals;

BufferList bl(std::string_view s) { return BufferList::copy_of(s); }

struct Seen {
  OsdOpMsg op;
  BufferList data;
};

// What the fake OSD does with an op: a reply message, or nothing (no answer).
using Behavior =
    std::function<std::optional<Message>(const OsdOpMsg&, const BufferList&, const ConnectionRef&)>;

Message reply_msg(const OsdOpMsg& op, int32_t result, std::vector<BufferList> outs, uint32_t epoch = 1) {
  msg::OsdOpReplyMsg r;
  r.result = result;
  r.map_epoch = epoch;
  r.version = 1;
  BufferList data;
  for (size_t i = 0; i < op.ops.size(); ++i) {
    BufferList out = i < outs.size() ? outs[i] : BufferList{};
    r.results.push_back(msg::OsdSubResult{0, static_cast<uint32_t>(out.size())});
    data.append(out);
  }
  return Message::make(msg::kMsgOsdOpReply, r, data);
}

class FakeCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    mon_ = std::make_unique<Node>("mon.a");
    osd_ = std::make_unique<Node>("osd.0");
    map_.epoch = 1;
    map_.fsid = "fake";
    map_.crush = *crush::build_map(crush::BuildSpec{1, 1});
    map_.osds[0] = crush::OsdInfo{true, crush::kWeightOne, osd_->inst().addr.to_string()};
    crush::PoolInfo p;
    p.placement = crush::Pool{1, 2, 1, crush::kRuleReplicatedHost, false};
    p.name = "p";
    p.min_size = 1;
    map_.pools[1] = p;
    map_.pool_max = 1;
    ASSERT_TRUE(map_.rebuild().ok());
    mon_->table().on(msg::kMsgMonSubscribe, [this](const ConnectionRef& c, Message m) {
      auto sub = m.decode_front<msg::MonSubscribeMsg>();
      std::lock_guard<std::mutex> l(mu_);
      if (!sub.ok() || sub->osdmap_from > map_.epoch) return;
      msg::OsdMapMsg out;
      out.fsid = map_.fsid;
      out.full[map_.epoch] = encode_to_buffer(map_);
      (void)c->send(Message::make(msg::kMsgOsdMap, out));
    });
    osd_->table().on(msg::kMsgOsdOp, [this](const ConnectionRef& c, Message m) {
      auto op = m.decode_front<OsdOpMsg>();
      ASSERT_TRUE(op.ok());
      Behavior b;
      {
        std::lock_guard<std::mutex> l(mu_);
        seen_.push_back(Seen{*op, m.data});
        b = behavior_;
      }
      auto r = b ? b(*op, m.data, c) : std::optional<Message>(reply_msg(*op, 0, {}));
      if (r) (void)c->reply(m, std::move(*r));
    });
    mon_->start();
    osd_->start();
  }
  void TearDown() override {
    if (cluster_) cluster_->shutdown();
    osd_->stop();
    mon_->stop();
  }

  Cluster& connect(std::chrono::milliseconds op_timeout = 10s, std::chrono::milliseconds attempt = 5s) {
    ClusterOptions o;
    o.mon_host = mon_->inst().addr.to_string();
    o.connect_timeout = 10s;
    o.op_timeout = op_timeout;
    o.attempt_timeout = attempt;
    auto c = Cluster::connect(o);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    cluster_ = std::move(*c);
    return *cluster_;
  }
  IoCtx pool() {
    auto io = cluster_->io_ctx("p");
    EXPECT_TRUE(io.ok());
    return *io;
  }
  void set_behavior(Behavior b) {
    std::lock_guard<std::mutex> l(mu_);
    behavior_ = std::move(b);
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

  std::unique_ptr<Node> mon_, osd_;
  std::mutex mu_;
  crush::OsdMap map_;
  std::vector<Seen> seen_;
  Behavior behavior_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(FakeCluster, ConnectsAndSeesThePools) {
  Cluster& c = connect();
  EXPECT_EQ(c.epoch(), 1u);
  EXPECT_NE(c.client_id(), 0u);
  EXPECT_EQ(c.entity_name().rfind("client.", 0), 0u);
  EXPECT_EQ(*c.pool_lookup("p"), 1);
  ASSERT_EQ(c.pool_list().size(), 1u);
  EXPECT_EQ(c.pool_list()[0].pg_num, 2u);
  EXPECT_EQ(c.io_ctx("nope").code(), Errc::kNotFound);
}

TEST_F(FakeCluster, SendsAPlacedOpAndDecodesTheReply) {
  Cluster& c = connect();
  set_behavior([](const OsdOpMsg& op, const BufferList&, const ConnectionRef&) -> std::optional<Message> {
    return reply_msg(op, 0, {bl("payload")});
  });
  IoCtx io = pool();
  ASSERT_TRUE(io.write_full("obj", bl("hello")).ok());
  auto r = io.read("obj", 0, 0);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, bl("payload"));
  auto s = seen();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].op.client, c.client_id());
  EXPECT_EQ(s[0].op.pool, 1);
  EXPECT_EQ(s[0].op.name, "obj");
  EXPECT_EQ(s[0].op.hash, crush::object_hash("obj"));
  EXPECT_EQ(s[0].op.pg_seed, map_.object_to_pg(1, "obj").seed);
  EXPECT_EQ(s[0].op.map_epoch, 1u);
  EXPECT_EQ(s[0].op.flags, msg::kOpFlagWrite);
  EXPECT_EQ(s[0].data, bl("hello"));
  EXPECT_EQ(s[1].op.flags, msg::kOpFlagRead);
  EXPECT_LT(s[0].op.tid, s[1].op.tid);
}

TEST_F(FakeCluster, AnOsdErrorIsTheStatus) {
  connect();
  set_behavior([](const OsdOpMsg& op, const BufferList&, const ConnectionRef&) -> std::optional<Message> {
    return reply_msg(op, -ECANCELED, {});
  });
  WriteOp op;
  op.cmpxattr("v", bl("1")).write_full(bl("x"));
  EXPECT_EQ(pool().operate("obj", op).code(), Errc::kCanceled);
}

TEST_F(FakeCluster, ResendsAfterEagainWithTheSameTid) {
  connect();
  std::atomic<int> n{0};
  set_behavior([&](const OsdOpMsg& op, const BufferList&, const ConnectionRef&) -> std::optional<Message> {
    return reply_msg(op, n++ < 2 ? -EAGAIN : 0, {});
  });
  ASSERT_TRUE(pool().write("obj", 0, bl("x")).ok());
  auto s = seen();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].op.tid, s[2].op.tid);
  EXPECT_EQ(s[0].op.attempt, 0u);
  EXPECT_EQ(s[2].op.attempt, 2u);
  EXPECT_EQ(s[2].data, bl("x"));
}

TEST_F(FakeCluster, RefreshesTheMapOnEstaleAndResends) {
  Cluster& c = connect();
  {
    std::lock_guard<std::mutex> l(mu_);
    map_.epoch = 2;  // the monitor has a newer map it has not pushed
  }
  set_behavior([](const OsdOpMsg& op, const BufferList&, const ConnectionRef&) -> std::optional<Message> {
    return reply_msg(op, op.map_epoch < 2 ? -ESTALE : 0, {}, 2);
  });
  ASSERT_TRUE(pool().remove("obj").ok());
  EXPECT_EQ(c.epoch(), 2u);
  auto s = seen();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].op.map_epoch, 2u);
  EXPECT_EQ(s[0].op.tid, s[1].op.tid);
}

TEST_F(FakeCluster, ResendsAfterTheConnectionDrops) {
  connect();
  std::atomic<int> n{0};
  set_behavior([&](const OsdOpMsg& op, const BufferList&, const ConnectionRef& c) -> std::optional<Message> {
    if (n++ == 0) {
      c->close();
      return std::nullopt;
    }
    return reply_msg(op, 0, {});
  });
  ASSERT_TRUE(pool().append("obj", bl("abc")).ok());
  auto s = seen();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].op.tid, s[1].op.tid);
}

TEST_F(FakeCluster, TimesOutWhenTheOsdNeverAnswers) {
  connect(1200ms, 300ms);
  set_behavior([](const OsdOpMsg&, const BufferList&, const ConnectionRef&) -> std::optional<Message> {
    return std::nullopt;
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(pool().stat("obj").code(), Errc::kTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_GE(seen().size(), 2u);  // resent after each attempt timed out
}

TEST_F(FakeCluster, ListsEveryPgPageByPage) {
  connect();
  // pg 0 holds a, b, c; pg 1 holds d. Pages are at most `len` entries.
  std::map<uint32_t, std::vector<std::string>> pgs{{0, {"a", "b", "c"}}, {1, {"d"}}};
  set_behavior(
      [pgs](const OsdOpMsg& op, const BufferList& data, const ConnectionRef&) -> std::optional<Message> {
        EXPECT_EQ(op.ops[0].code, OsdOpCode::kPgList);
        auto start = decode_from<msg::ObjectCursor>(data);
        EXPECT_TRUE(start.ok());
        const auto& names = pgs.at(op.pg_seed);
        msg::PgListOut out;
        size_t i = 0;
        while (!start->name.empty() && i < names.size() && names[i] != start->name) ++i;
        for (; i < names.size() && out.objects.size() < op.ops[0].len; ++i)
          out.objects.push_back(msg::ObjectCursor{op.pg_seed, "", names[i]});
        out.at_end = i >= names.size();
        if (!out.at_end) out.next = msg::ObjectCursor{op.pg_seed, "", names[i]};
        return reply_msg(op, 0, {encode_to_buffer(out)});
      });
  IoCtx io = pool();
  auto all = io.list_all();
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  std::vector<std::string> names;
  for (const auto& e : *all) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));

  auto page = io.list_objects(ListCursor{}, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->next.pg, 0u);
  EXPECT_EQ(page->next.pos.name, "c");
  // The printed cursor resumes where the page ended.
  auto resumed = io.list_objects(*ListCursor::parse(page->next.to_string()), 10);
  ASSERT_TRUE(resumed.ok());
  ASSERT_EQ(resumed->entries.size(), 2u);
  EXPECT_EQ(resumed->entries[0].name, "c");
  EXPECT_EQ(resumed->entries[1].name, "d");
  EXPECT_TRUE(resumed->next.at_end);
}

TEST_F(FakeCluster, AWatchCallbackAnswersANotify) {
  connect();
  std::mutex wmu;
  ConnectionRef watch_conn;
  uint64_t watch_cookie = 0;
  std::promise<Seen> ack;
  set_behavior(
      [&](const OsdOpMsg& op, const BufferList& data, const ConnectionRef& c) -> std::optional<Message> {
        if (op.ops[0].code == OsdOpCode::kWatch) {
          std::lock_guard<std::mutex> l(wmu);
          watch_conn = c;
          watch_cookie = op.ops[0].off;
        } else if (op.ops[0].code == OsdOpCode::kNotifyAck) {
          ack.set_value(Seen{op, data});
        }
        return reply_msg(op, 0, {});
      });
  IoCtx io = pool();
  std::atomic<int> calls{0};
  auto cookie = io.watch("obj", [&](uint64_t notify_id, uint64_t, const BufferList& payload) {
    ++calls;
    EXPECT_EQ(notify_id, 99u);
    EXPECT_EQ(payload, bl("ping"));
    return bl("pong");
  });
  ASSERT_TRUE(cookie.ok()) << cookie.status().to_string();
  ConnectionRef conn;
  {
    std::lock_guard<std::mutex> l(wmu);
    conn = watch_conn;
    EXPECT_EQ(watch_cookie, *cookie);
  }
  ASSERT_TRUE(conn);
  msg::WatchNotifyMsg n{*cookie, 99, 1, "obj"};
  ASSERT_TRUE(conn->send(Message::make(msg::kMsgWatchNotify, n, bl("ping"))).ok());
  auto f = ack.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  Seen a = f.get();
  EXPECT_EQ(a.op.ops[0].off, 99u);
  EXPECT_EQ(a.data, bl("pong"));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(io.unwatch(*cookie).ok());
  EXPECT_EQ(io.unwatch(*cookie).code(), Errc::kNotFound);
}

TEST_F(FakeCluster, AWatchIsReestablishedAfterItsConnectionDrops) {
  connect();
  std::mutex wmu;
  std::vector<std::pair<uint64_t, ConnectionRef>> watches;
  set_behavior([&](const OsdOpMsg& op, const BufferList&, const ConnectionRef& c) -> std::optional<Message> {
    if (op.ops[0].code == OsdOpCode::kWatch) {
      std::lock_guard<std::mutex> l(wmu);
      watches.emplace_back(op.ops[0].off, c);
    }
    return reply_msg(op, 0, {});
  });
  IoCtx io = pool();
  auto cookie = io.watch("obj", [](uint64_t, uint64_t, const BufferList&) { return BufferList{}; });
  ASSERT_TRUE(cookie.ok());
  ConnectionRef first;
  {
    std::lock_guard<std::mutex> l(wmu);
    ASSERT_EQ(watches.size(), 1u);
    first = watches[0].second;
  }
  first->close();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> l(wmu);
    return watches.size() >= 2;
  }));
  std::lock_guard<std::mutex> l(wmu);
  EXPECT_EQ(watches[1].first, *cookie);
  EXPECT_NE(watches[1].second, first);
}

TEST_F(FakeCluster, NotifyDecodesTheAcks) {
  connect();
  set_behavior(
      [](const OsdOpMsg& op, const BufferList& data, const ConnectionRef&) -> std::optional<Message> {
        EXPECT_EQ(op.ops[0].code, OsdOpCode::kNotify);
        EXPECT_EQ(op.ops[0].len, 500u);
        EXPECT_EQ(data, bl("hi"));
        msg::NotifyOut out;
        out.acks = {{1, bl("a")}};
        out.timed_out = {2};
        return reply_msg(op, 0, {encode_to_buffer(out)});
      });
  auto r = pool().notify("obj", bl("hi"), 500ms);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->acks.size(), 1u);
  EXPECT_EQ(r->acks[0].second, bl("a"));
  EXPECT_EQ(r->timed_out, std::vector<uint64_t>{2});
}

awaitable<void> async_write(IoCtx io, std::shared_ptr<std::promise<Status>> done) {
  WriteOp op;
  op.write_full(BufferList::copy_of("co"));
  auto r = co_await async_operate(io, "obj", std::move(op));
  if (!r.ok()) {
    done->set_value(r.status());
    co_return;
  }
  done->set_value(status_from_errno(r->result));
}

TEST_F(FakeCluster, AioAndCoroutineOpsComplete) {
  Cluster& c = connect();
  IoCtx io = pool();
  std::promise<Status> aio_done;
  std::promise<Status> nested;
  WriteOp op;
  op.write_full(bl("x"));
  io.aio_operate("obj", op, [&](Result<OpReply> r) {
    // A synchronous call from the client thread would deadlock: it is refused.
    nested.set_value(io.remove("other"));
    aio_done.set_value(r.ok() ? status_from_errno(r->result) : r.status());
  });
  auto f = aio_done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(nested.get_future().get().code(), Errc::kInvalid);

  auto done = std::make_shared<std::promise<Status>>();
  auto fd = done->get_future();
  asio::co_spawn(client_io(c), async_write(io, done), asio::detached);
  ASSERT_EQ(fd.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(fd.get().ok());
  EXPECT_EQ(seen().back().data, bl("co"));
}

TEST_F(FakeCluster, CallsAfterShutdownFail) {
  Cluster& c = connect();
  IoCtx io = pool();
  c.shutdown();
  EXPECT_EQ(io.stat("obj").code(), Errc::kShutdown);
}

}  // namespace
}  // namespace cairn::client
