// Messenger benchmarks: frame encode/decode, and round-trip latency and
// throughput between two messengers on loopback (each on its own io_context
// thread, as two shards or two daemons would be).
//
//   build-msg/bin/msg_bench --benchmark_min_time=2
//
// Figures and the exact command are recorded in docs/bench-msg.md.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "common/asio.h"
#include "common/checksum.h"
#include "msg/messenger.h"

namespace cairn::msg {
namespace {

using namespace std::chrono_literals;

// ---- framing ----------------------------------------------------------------

void BM_FrameEncode(benchmark::State& state) {
  BufferList front = BufferList::copy_of(std::string(64, 'f'));
  BufferList data = BufferList::copy_of(std::string(static_cast<size_t>(state.range(0)), 'd'));
  char hdr[kFrameHeaderSize];
  for (auto _ : state) {
    FrameHeader h;
    h.type = kMsgTestData;
    seal_frame(h, front, data);  // the crcs: the real cost
    encode_frame_header(h, hdr);
    benchmark::DoNotOptimize(hdr);
  }
  state.SetBytesProcessed(state.iterations() * (state.range(0) + 64));
}
BENCHMARK(BM_FrameEncode)->Arg(4096)->Arg(4 << 20);

void BM_FrameDecode(benchmark::State& state) {
  BufferList front = BufferList::copy_of(std::string(64, 'f'));
  BufferList data = BufferList::copy_of(std::string(static_cast<size_t>(state.range(0)), 'd'));
  FrameHeader h;
  seal_frame(h, front, data);
  char hdr[kFrameHeaderSize];
  encode_frame_header(h, hdr);
  for (auto _ : state) {
    auto r = decode_frame_header(hdr, FrameLimits{});
    benchmark::DoNotOptimize(r);
    Status st = verify_frame_segments(*r, front, data);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(state.iterations() * (state.range(0) + 64));
}
BENCHMARK(BM_FrameDecode)->Arg(4096)->Arg(4 << 20);

// ---- loopback -----------------------------------------------------------------

struct Shard {
  explicit Shard(const char* name, bool listen)
      : work(asio::make_work_guard(io)), m(io, *EntityName::parse(name), opts()) {
    m.set_dispatcher(&table);
    if (listen) addr = *m.bind(*EntityAddr::parse("127.0.0.1:0"));
  }
  ~Shard() {
    m.shutdown();
    work.reset();
    std::this_thread::sleep_for(20ms);
    io.stop();
    thread.join();
  }
  static MessengerOptions opts() {
    MessengerOptions o;
    o.max_inflight_bytes = 64u << 20;
    return o;
  }
  void start() {
    thread = std::thread([this] { io.run(); });
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  DispatchTable table;
  Messenger m;
  EntityAddr addr;
  std::thread thread;
};

// A server that counts data messages and answers pings (after everything before them).
struct Pair {
  explicit Pair(Policy p) : server("osd.1", true), client("osd.2", false) {
    server.table.on(kMsgTestData, [this](const ConnectionRef&, Message) { received.fetch_add(1); });
    server.table.on(kMsgTestPing, [](const ConnectionRef& c, Message m) {
      Message r;
      r.type = kMsgTestPong;
      (void)c->reply(m, std::move(r));
    });
    server.start();
    client.start();
    std::promise<ConnectionRef> pr;
    asio::post(client.io, [&] {
      pr.set_value(client.m.connect(EntityInst{server.m.name(), server.addr}, p));
    });
    conn = pr.get_future().get();
  }
  // Runs a coroutine on the client's thread and waits for it.
  Status run(awaitable<Status> (*fn)(ConnectionRef, BufferList, int), BufferList data, int n) {
    std::promise<Status> pr;
    asio::co_spawn(client.io, deliver(&pr, fn(conn, std::move(data), n)), asio::detached);
    return pr.get_future().get();
  }
  static awaitable<void> deliver(std::promise<Status>* pr, awaitable<Status> a) {
    pr->set_value(co_await std::move(a));
  }

  Shard server, client;
  ConnectionRef conn;
  std::atomic<uint64_t> received{0};
};

awaitable<Status> ping_pong(ConnectionRef c, BufferList, int n) {
  for (int i = 0; i < n; ++i) {
    Message m;
    m.type = kMsgTestPing;
    CAIRN_CO_ASSIGN_OR_RETURN(auto r, co_await c->request(std::move(m), 10000ms));
    (void)r;
  }
  co_return ok_status();
}

// n messages pipelined under the in-flight bound, then a ping that returns once
// the server has handled all of them (one connection delivers in order).
awaitable<Status> stream_messages(ConnectionRef c, BufferList data, int n) {
  for (int i = 0; i < n; ++i) {
    Message m;
    m.type = kMsgTestData;
    m.data = data;  // shares the buffer: no copy, as a replicated write would
    CAIRN_CO_RETURN_IF_ERROR(co_await c->send_wait(std::move(m), 10000ms));
  }
  co_return co_await ping_pong(c, {}, 1);
}

Policy policy_arg(const benchmark::State& s) { return s.range(0) ? Policy::kLossless : Policy::kLossy; }

void BM_RoundTrip(benchmark::State& state) {
  Pair p(policy_arg(state));
  const int batch = 1000;
  for (auto _ : state) {
    if (!p.run(ping_pong, {}, batch).ok()) state.SkipWithError("request failed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["us_per_rt"] = benchmark::Counter(static_cast<double>(state.iterations() * batch),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_RoundTrip)->Arg(1)->Arg(0)->ArgName("lossless")->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Stream(benchmark::State& state) {
  Pair p(policy_arg(state));
  const size_t size = static_cast<size_t>(state.range(1));
  const int n = size >= (1u << 20) ? 64 : 20000;
  BufferPtr buf = BufferPtr::create(size);
  for (size_t i = 0; i < size; ++i) buf.data()[i] = static_cast<char>(i);
  BufferList data(buf);
  for (auto _ : state) {
    if (!p.run(stream_messages, data, n).ok()) state.SkipWithError("stream failed");
  }
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(size));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Stream)
    ->ArgsProduct({{1, 0}, {4096, 4 << 20}})
    ->ArgNames({"lossless", "size"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Baseline: what this machine's loopback TCP does with plain blocking write(2)
// and read(2) of 4 MiB, no framing, no crc, no Asio. The messenger's figures are
// read against it (docs/bench-msg.md).
void BM_RawTcpBaseline(benchmark::State& state) {
  const size_t size = 4u << 20;
  const int n = 64;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(l, 1) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    state.SkipWithError("listen failed");
    return;
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    state.SkipWithError("connect failed");
    return;
  }
  int c = accept(l, nullptr, nullptr);
  std::vector<char> out(size, 'x'), in(size);
  std::thread rx([&] {
    while (read(c, in.data(), in.size()) > 0) {
    }
  });
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      for (size_t off = 0; off < size;) {
        ssize_t w = write(s, out.data() + off, size - off);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
    }
  }
  shutdown(s, SHUT_WR);
  rx.join();
  close(s);
  close(c);
  close(l);
  state.SetBytesProcessed(state.iterations() * n * static_cast<int64_t>(size));
}
BENCHMARK(BM_RawTcpBaseline)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cairn::msg

BENCHMARK_MAIN();
