// End-to-end monitor benchmark: a 3-monitor cluster on loopback (real cairn-mon
// processes), one client connection to the leader.
//   latency:    sequential `config set` commands, each waits for its commit (p50/p99)
//   throughput: N commands in flight; Paxos batches them into fewer rounds
// Run: build/bin/mon_bench [--mons 3] [--ops 2000] [--inflight 64]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/log.h"
#include "mon_cluster.h"
#include "msg/messenger.h"
#include "msg/mon_messages.h"

using namespace std::chrono_literals;
using cairn::awaitable;
namespace asio = cairn::asio;
namespace msg = cairn::msg;

namespace {

struct Args {
  int mons = 3;
  int ops = 2000;
  int inflight = 64;
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

awaitable<int> one(msg::ConnectionRef conn, int i, std::vector<double>* lat) {
  auto t0 = std::chrono::steady_clock::now();
  msg::MonCommandMsg cmd{{"config", "set", "global", "bench" + std::to_string(i % 500), std::to_string(i)},
                         false};
  msg::Message req = msg::Message::make(msg::kMsgMonCommand, cmd);
  auto r = co_await conn->request(std::move(req), std::chrono::milliseconds(10000));
  if (lat)
    lat->push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  if (!r.ok()) co_return -1;
  auto rep = r->decode_front<msg::MonCommandReplyMsg>();
  co_return rep.ok() ? rep->code : -1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mons")) a.mons = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--ops")) a.ops = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--inflight")) a.inflight = std::atoi(argv[i + 1]);
  }
  cairn::log::configure("warn");
  cairn::test::MonCluster c(a.mons, {"--log-level", "warn"});
  if (!c.start_all().ok()) return 1;
  int l = c.wait_leader(30s);
  if (l < 0) {
    std::fprintf(stderr, "no leader\n");
    return 1;
  }
  asio::io_context io;
  msg::Messenger m(io, msg::EntityName{msg::EntityType::kClient, "bench"});
  auto conn = m.connect(
      msg::EntityInst{msg::EntityName{msg::EntityType::kMon, c.name(l)}, *msg::EntityAddr::parse(c.addr(l))},
      msg::Policy::kLossy);
  std::vector<double> lat;
  double seq_secs = 0, par_secs = 0;
  int errors = 0;
  asio::co_spawn(
      io,
      [&]() -> awaitable<void> {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < a.ops / 4; ++i) {
          int rc = co_await one(conn, i, &lat);
          errors += rc != 0;
        }
        seq_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // Throughput: a.inflight workers, each sequential.
        int next = 0, done_workers = 0;
        auto t1 = std::chrono::steady_clock::now();
        asio::steady_timer all_done(io, std::chrono::steady_clock::time_point::max());
        for (int w = 0; w < a.inflight; ++w) {
          asio::co_spawn(
              io,
              [&]() -> awaitable<void> {
                while (next < a.ops) {
                  int rc = co_await one(conn, next++, nullptr);
                  errors += rc != 0;
                }
                if (++done_workers == a.inflight) all_done.cancel();
              },
              asio::detached);
        }
        boost::system::error_code ec;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        par_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        m.shutdown();
        io.stop();
      },
      asio::detached);
  io.run();
  std::printf("mons=%d sequential: %zu commits, p50 %.3f ms, p99 %.3f ms, %.0f commits/s\n", a.mons,
              lat.size(), pct(lat, 0.5), pct(lat, 0.99), static_cast<double>(lat.size()) / seq_secs);
  std::printf("mons=%d %d in flight: %d commits in %.2f s = %.0f commits/s; errors %d\n", a.mons, a.inflight,
              a.ops, par_secs, a.ops / par_secs, errors);
  return errors ? 1 : 0;
}
