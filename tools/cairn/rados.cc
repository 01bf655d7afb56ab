// cairn rados: object I/O and a load generator on the client library.
//
//   cairn rados -p POOL put OBJ FILE|-         get OBJ FILE|-       rm OBJ...
//   cairn rados -p POOL ls | stat OBJ | setxattr OBJ NAME VALUE | getxattr OBJ NAME | listxattr OBJ
//   cairn rados -p POOL setomapval OBJ KEY VALUE | listomapvals OBJ | rmomapkey OBJ KEY
//   cairn rados -p POOL bench SECONDS write|seq|rand [-b SIZE] [-t CONCURRENCY] [--no-cleanup]
//   cairn rados -p POOL cleanup                 removes what `bench write --no-cleanup` left
//   cairn rados lspools
#include "tools/cairn/rados.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "client/rados.h"
#include "common/config.h"
#include "common/env.h"

namespace cairn::tools {

namespace {

using client::IoCtx;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

void rados_usage() {
  std::fputs(
      "usage: cairn rados [-p POOL] <command>\n"
      "  put OBJ FILE|-            write an object from a file or stdin\n"
      "  get OBJ FILE|-            read an object into a file or stdout\n"
      "  rm OBJ...                 remove objects\n"
      "  ls                        list the pool's objects\n"
      "  stat OBJ                  size and mtime\n"
      "  setxattr OBJ NAME VALUE | getxattr OBJ NAME | rmxattr OBJ NAME | listxattr OBJ\n"
      "  setomapval OBJ KEY VALUE | getomapval OBJ KEY | listomapvals OBJ | listomapkeys OBJ | rmomapkey OBJ "
      "KEY\n"
      "  bench SECONDS write|seq|rand [-b SIZE] [-t CONCURRENCY] [--no-cleanup]\n"
      "  cleanup                   remove the objects of `bench write --no-cleanup`\n"
      "  lspools                   pool names\n",
      stderr);
}

int fail(const Status& st) {
  std::fprintf(stderr, "cairn rados: %s\n",
               st.message().empty() ? st.to_string().c_str() : st.message().c_str());
  int e = st.err();
  return e <= 0 || e > 255 ? 1 : e;
}

int usage_error(const std::string& what) {
  std::fprintf(stderr, "cairn rados: %s\n", what.c_str());
  rados_usage();
  return EINVAL;
}

struct Args {
  std::string pool;
  uint64_t block_size = 4u << 20;
  uint32_t concurrency = 16;
  bool no_cleanup = false;
  std::vector<std::string> words;  // after "rados", options removed
};

Result<Args> parse_args(const std::vector<std::string>& in) {
  Args a;
  for (size_t i = 1; i < in.size(); ++i) {
    const std::string& w = in[i];
    auto value = [&](std::string& out) -> Status {
      size_t eq = w.find('=');
      if (w.rfind("--", 0) == 0 && eq != std::string::npos) {
        out = w.substr(eq + 1);
        return {};
      }
      if (i + 1 >= in.size()) return Status(Errc::kInvalid, w + " needs a value");
      out = in[++i];
      return {};
    };
    std::string v;
    if (w == "-p" || w.rfind("--pool", 0) == 0) {
      CAIRN_RETURN_IF_ERROR(value(a.pool));
    } else if (w == "-b" || w.rfind("--block-size", 0) == 0) {
      CAIRN_RETURN_IF_ERROR(value(v));
      auto n = parse_size(v);
      if (!n.ok() || *n == 0) return Status(Errc::kInvalid, "bad block size '" + v + "'");
      a.block_size = *n;
    } else if (w == "-t" || w.rfind("--concurrent-ios", 0) == 0) {
      CAIRN_RETURN_IF_ERROR(value(v));
      char* end = nullptr;
      unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n == 0 || n > 4096)
        return Status(Errc::kInvalid, "bad concurrency '" + v + "'");
      a.concurrency = static_cast<uint32_t>(n);
    } else if (w == "--no-cleanup") {
      a.no_cleanup = true;
    } else {
      a.words.push_back(w);
    }
  }
  return a;
}

Result<BufferList> read_input(const std::string& path) {
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return Status(static_cast<Errc>(errno), "cannot open " + path + ": " + std::strerror(errno));
  BufferList bl;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bl.append(buf, n);
  bool err = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (err) return Status(Errc::kIo, "cannot read " + path);
  return bl;
}

Status write_output(const std::string& path, const BufferList& bl) {
  FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (!f) return Status(static_cast<Errc>(errno), "cannot open " + path + ": " + std::strerror(errno));
  bool ok = true;
  for (const auto& seg : bl.segments()) ok = ok && std::fwrite(seg.data(), 1, seg.size(), f) == seg.size();
  ok = (f == stdout ? std::fflush(f) : std::fclose(f)) == 0 && ok;
  if (!ok) return Status(Errc::kIo, "cannot write " + path);
  return {};
}

// A value for humans: printable text as is, anything else as hex.
std::string printable(const BufferList& bl) {
  std::string s = bl.to_string();
  bool text = std::all_of(s.begin(), s.end(), [](char c) {
    return c == '\n' || c == '\t' ||
           (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  });
  if (text) return s;
  std::string hex = "0x";
  char b[3];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    hex += b;
  }
  return hex;
}

std::string format_time(uint64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%06lluZ", buf,
                static_cast<unsigned long long>(ns % 1'000'000'000 / 1000));
  return out;
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

// ---- bench ----

constexpr const char* kBenchMetadata = "benchmark_last_metadata";

std::string bench_prefix() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return "benchmark_data_" + std::string(host) + "_" + std::to_string(getpid());
}
std::string bench_object(const std::string& prefix, uint64_t n) {
  return prefix + "_object" + std::to_string(n);
}

struct BenchStats {
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t started = 0;
  double seconds = 0;
  std::vector<double> lat;  // seconds
  Status first_error;
};

// What the next op is: object name and op; false when there is nothing more to start.
using NextOp = std::function<bool(uint64_t i, std::string& oid, client::ObjectOperation& op)>;

// Keeps `conc` ops in flight until `duration` passes (or next() runs out), one
// report line per second when `report`. Each completion starts the next op itself,
// on the client's I/O thread: the calling thread only wakes to report, so an op costs
// no thread switch in this process (as an application using the async API would).
BenchStats run_ops(IoCtx& io, std::optional<std::chrono::seconds> duration, uint32_t conc, uint64_t op_bytes,
                   const NextOp& next, bool report) {
  struct Shared : std::enable_shared_from_this<Shared> {
    IoCtx* io;
    const NextOp* next;
    uint32_t conc;
    uint64_t op_bytes;
    std::optional<Clock::time_point> end;
    std::mutex mu;
    std::condition_variable cv;
    uint32_t in_flight = 0;
    bool exhausted = false;
    BenchStats st;
    double lat_sum = 0;  // of st.lat, for the per-second line (summing under `mu` stalls completions)

    bool stopping() { return exhausted || !st.first_error.ok() || (end && Clock::now() >= *end); }
    bool done() { return in_flight == 0 && stopping(); }
    // Starts ops until `conc` are in flight or it is time to stop; called with `mu`
    // held. `io` and `next` are used only while ops are in flight, and run_ops returns
    // only once none is.
    void fill() {
      while (in_flight < conc && !stopping()) {
        std::string oid;
        client::ObjectOperation op;
        if (!(*next)(st.started, oid, op)) {
          exhausted = true;
          break;
        }
        ++st.started;
        ++in_flight;
        io->aio_operate(oid, op,
                        [self = shared_from_this(), t0 = Clock::now(), oid](Result<client::OpReply> r) {
                          self->complete(std::chrono::duration<double>(Clock::now() - t0).count(), oid, r);
                        });
      }
    }
    void complete(double lat, const std::string& oid, const Result<client::OpReply>& r) {
      std::lock_guard<std::mutex> g(mu);
      --in_flight;
      Status s = r.ok() ? client::status_from_errno(r->result, "'" + oid + "'") : r.status();
      if (s.ok()) {
        ++st.ops;
        st.bytes += op_bytes;
        st.lat.push_back(lat);
        lat_sum += lat;
      } else if (st.first_error.ok()) {
        st.first_error = s;
      }
      fill();
      if (done()) cv.notify_all();
    }
  };
  auto sh = std::make_shared<Shared>();
  sh->io = &io;
  sh->next = &next;
  sh->conc = conc;
  sh->op_bytes = op_bytes;
  auto start = Clock::now();
  if (duration) sh->end = start + *duration;
  auto next_report = start + std::chrono::seconds(1);
  uint64_t last_bytes = 0;
  int sec = 0;
  if (report)
    std::printf("%5s %8s %10s %10s %10s %10s %12s\n", "sec", "cur ops", "started", "finished", "avg MB/s",
                "cur MB/s", "avg lat(s)");
  std::unique_lock<std::mutex> l(sh->mu);
  sh->fill();
  while (!sh->done()) {
    auto wake = next_report;
    if (sh->end && *sh->end < wake && Clock::now() < *sh->end) wake = *sh->end;
    sh->cv.wait_until(l, wake);  // the last completion notifies
    auto now = Clock::now();
    if (now < next_report) continue;
    next_report += std::chrono::seconds(1);
    if (report) {
      ++sec;
      double elapsed = std::chrono::duration<double>(now - start).count();
      double avg_mb = static_cast<double>(sh->st.bytes) / elapsed / (1 << 20);
      double cur_mb = static_cast<double>(sh->st.bytes - last_bytes) / (1 << 20);
      double avg_lat = sh->st.lat.empty() ? 0 : sh->lat_sum / static_cast<double>(sh->st.lat.size());
      std::printf("%5d %8u %10llu %10llu %10.2f %10.2f %12.6f\n", sec, sh->in_flight,
                  static_cast<unsigned long long>(sh->st.started),
                  static_cast<unsigned long long>(sh->st.ops), avg_mb, cur_mb, avg_lat);
      std::fflush(stdout);
      last_bytes = sh->st.bytes;
    }
  }
  sh->st.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return sh->st;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

void print_summary(const char* mode, BenchStats& st, uint64_t op_bytes, bool json) {
  std::sort(st.lat.begin(), st.lat.end());
  double sum = 0;
  for (double x : st.lat) sum += x;
  double avg = st.lat.empty() ? 0 : sum / static_cast<double>(st.lat.size());
  double ops_s = st.seconds > 0 ? static_cast<double>(st.ops) / st.seconds : 0;
  double mb_s = st.seconds > 0 ? static_cast<double>(st.bytes) / st.seconds / (1 << 20) : 0;
  double p50 = percentile(st.lat, 0.50), p99 = percentile(st.lat, 0.99);
  double mx = st.lat.empty() ? 0 : st.lat.back();
  if (json) {
    print_json({{"mode", mode},
                {"seconds", st.seconds},
                {"ops", st.ops},
                {"op_size", op_bytes},
                {"bytes", st.bytes},
                {"ops_per_sec", ops_s},
                {"mb_per_sec", mb_s},
                {"latency_avg", avg},
                {"latency_p50", p50},
                {"latency_p99", p99},
                {"latency_max", mx}});
    return;
  }
  std::printf("Total time run:         %.3f s\n", st.seconds);
  std::printf("Total %s ops:        %llu\n", mode, static_cast<unsigned long long>(st.ops));
  std::printf("Op size:                %llu\n", static_cast<unsigned long long>(op_bytes));
  std::printf("Ops/s:                  %.2f\n", ops_s);
  std::printf("Bandwidth (MB/s):       %.3f\n", mb_s);
  std::printf("Average latency (s):    %.6f\n", avg);
  std::printf("p50 latency (s):        %.6f\n", p50);
  std::printf("p99 latency (s):        %.6f\n", p99);
  std::printf("Max latency (s):        %.6f\n", mx);
}

struct BenchMeta {
  std::string prefix;
  uint64_t objects = 0;
  uint64_t size = 0;
};

Result<BenchMeta> read_meta(IoCtx& io) {
  auto bl = io.read(kBenchMetadata, 0, 0);
  if (!bl.ok()) {
    if (bl.code() == Errc::kNotFound)
      return Status(Errc::kNotFound, "no benchmark data: run `bench SECONDS write --no-cleanup` first");
    return bl.status();
  }
  BenchMeta m;
  char prefix[1024];
  unsigned long long n = 0, sz = 0;
  std::string s = bl->to_string();
  if (std::sscanf(s.c_str(), "%1023s %llu %llu", prefix, &n, &sz) != 3)
    return Status(Errc::kCorrupt, std::string(kBenchMetadata) + " is malformed");
  m.prefix = prefix;
  m.objects = n;
  m.size = sz;
  return m;
}

// Removes the objects [0, n) of `prefix` (and the metadata object).
Status bench_cleanup(IoCtx& io, const std::string& prefix, uint64_t n, uint32_t conc) {
  NextOp next = [&](uint64_t i, std::string& oid, client::ObjectOperation& op) {
    if (i >= n) return false;
    oid = bench_object(prefix, i);
    client::WriteOp w;
    w.remove();
    op = w;
    return true;
  };
  BenchStats st = run_ops(io, std::nullopt, conc, 0, next, false);
  if (!st.first_error.ok() && st.first_error.code() != Errc::kNotFound) return st.first_error;
  Status m = io.remove(kBenchMetadata);
  if (!m.ok() && m.code() != Errc::kNotFound) return m;
  return {};
}

int bench(IoCtx& io, const Args& a, bool json) {
  if (a.words.size() < 3)
    return usage_error("usage: bench SECONDS write|seq|rand [-b SIZE] [-t N] [--no-cleanup]");
  char* end = nullptr;
  long secs = std::strtol(a.words[1].c_str(), &end, 10);
  if (*end != '\0' || secs <= 0) return usage_error("bad SECONDS '" + a.words[1] + "'");
  const std::string& mode = a.words[2];
  auto duration = std::chrono::seconds(secs);
  if (mode == "write") {
    std::string prefix = bench_prefix();
    BufferList payload;
    payload.append(BufferPtr::zeroed(a.block_size));
    if (!json)
      std::printf(
          "Maintaining %u concurrent writes of %llu bytes to objects of size %llu for up to %ld seconds\n",
          a.concurrency, static_cast<unsigned long long>(a.block_size),
          static_cast<unsigned long long>(a.block_size), secs);
    NextOp next = [&](uint64_t i, std::string& oid, client::ObjectOperation& op) {
      oid = bench_object(prefix, i);
      client::WriteOp w;
      w.write_full(payload);
      op = w;
      return true;
    };
    BenchStats st = run_ops(io, duration, a.concurrency, a.block_size, next, !json);
    uint64_t written = st.started;
    print_summary("write", st, a.block_size, json);
    if (!st.first_error.ok()) {
      (void)bench_cleanup(io, prefix, written, a.concurrency);
      return fail(st.first_error);
    }
    if (a.no_cleanup) {
      std::string meta = prefix + " " + std::to_string(written) + " " + std::to_string(a.block_size);
      Status ms = io.write_full(kBenchMetadata, BufferList::copy_of(meta));
      if (!ms.ok()) return fail(ms);
      return 0;
    }
    Status cs = bench_cleanup(io, prefix, written, a.concurrency);
    return cs.ok() ? 0 : fail(cs);
  }
  if (mode == "seq" || mode == "rand") {
    auto meta = read_meta(io);
    if (!meta.ok()) return fail(meta.status());
    if (meta->objects == 0) return fail(Status(Errc::kNotFound, "the benchmark wrote no objects"));
    bool seq = mode == "seq";
    Random& rnd = real_random();
    NextOp next = [&](uint64_t i, std::string& oid, client::ObjectOperation& op) {
      if (seq && i >= meta->objects) return false;
      uint64_t n = seq ? i : rnd.uniform(meta->objects);
      oid = bench_object(meta->prefix, n);
      client::ReadOp r;
      r.read(0, 0);
      op = r;
      return true;
    };
    BenchStats st = run_ops(io, duration, a.concurrency, meta->size, next, !json);
    print_summary(seq ? "seq read" : "rand read", st, meta->size, json);
    return st.first_error.ok() ? 0 : fail(st.first_error);
  }
  return usage_error("bench mode must be write, seq or rand");
}

// ---- the other commands ----

int run_command(client::Cluster& cluster, const Args& a, bool json) {
  const auto& w = a.words;
  const std::string& cmd = w[0];
  if (cmd == "lspools") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& p : cluster.pool_list()) {
      if (json)
        j.push_back(p.name);
      else
        std::printf("%s\n", p.name.c_str());
    }
    if (json) print_json(j);
    return 0;
  }
  if (a.pool.empty()) return usage_error("'" + cmd + "' needs a pool: -p POOL");
  auto ioc = cluster.io_ctx(a.pool);
  if (!ioc.ok()) return fail(ioc.status());
  IoCtx& io = *ioc;
  auto need = [&](size_t n, const char* usage) -> bool {
    if (w.size() == n) return true;
    usage_error(std::string("usage: ") + usage);
    return false;
  };
  if (cmd == "put") {
    if (!need(3, "put OBJ FILE|-")) return EINVAL;
    auto data = read_input(w[2]);
    if (!data.ok()) return fail(data.status());
    Status st = io.write_full(w[1], std::move(*data));
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "get") {
    if (!need(3, "get OBJ FILE|-")) return EINVAL;
    auto data = io.read(w[1], 0, 0);
    if (!data.ok()) return fail(data.status());
    Status st = write_output(w[2], *data);
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "rm") {
    if (w.size() < 2) return usage_error("usage: rm OBJ...");
    for (size_t i = 1; i < w.size(); ++i) {
      Status st = io.remove(w[i]);
      if (!st.ok()) return fail(st);
    }
    return 0;
  }
  if (cmd == "ls") {
    auto all = io.list_all();
    if (!all.ok()) return fail(all.status());
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : *all) {
      if (json)
        j.push_back(nlohmann::json{{"namespace", e.nspace}, {"name", e.name}});
      else if (e.nspace.empty())
        std::printf("%s\n", e.name.c_str());
      else
        std::printf("%s\t%s\n", e.nspace.c_str(), e.name.c_str());
    }
    if (json) print_json(j);
    return 0;
  }
  if (cmd == "stat") {
    if (!need(2, "stat OBJ")) return EINVAL;
    auto st = io.stat(w[1]);
    if (!st.ok()) return fail(st.status());
    if (json)
      print_json({{"pool", a.pool},
                  {"name", w[1]},
                  {"size", st->size},
                  {"mtime", format_time(st->mtime_ns)},
                  {"version", st->version}});
    else
      std::printf("%s/%s mtime %s, size %llu\n", a.pool.c_str(), w[1].c_str(),
                  format_time(st->mtime_ns).c_str(), static_cast<unsigned long long>(st->size));
    return 0;
  }
  if (cmd == "setxattr") {
    if (!need(4, "setxattr OBJ NAME VALUE")) return EINVAL;
    Status st = io.setxattr(w[1], w[2], BufferList::copy_of(w[3]));
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "rmxattr") {
    if (!need(3, "rmxattr OBJ NAME")) return EINVAL;
    Status st = io.rmxattr(w[1], w[2]);
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "getxattr") {
    if (!need(3, "getxattr OBJ NAME")) return EINVAL;
    auto v = io.getxattr(w[1], w[2]);
    if (!v.ok()) return fail(v.status());
    Status st = write_output("-", *v);
    if (!json && !v->empty() && v->to_string().back() != '\n') std::fputc('\n', stdout);
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "listxattr") {
    if (!need(2, "listxattr OBJ")) return EINVAL;
    auto m = io.getxattrs(w[1]);
    if (!m.ok()) return fail(m.status());
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : *m) {
      if (json)
        j[k] = printable(v);
      else
        std::printf("%s\n", k.c_str());
    }
    if (json) print_json(j);
    return 0;
  }
  if (cmd == "setomapval") {
    if (!need(4, "setomapval OBJ KEY VALUE")) return EINVAL;
    std::map<std::string, BufferList> kv;
    kv[w[2]] = BufferList::copy_of(w[3]);
    Status st = io.omap_set(w[1], std::move(kv));
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "getomapval") {
    if (!need(3, "getomapval OBJ KEY")) return EINVAL;
    auto m = io.omap_get_by_keys(w[1], {w[2]});
    if (!m.ok()) return fail(m.status());
    auto it = m->find(w[2]);
    if (it == m->end()) return fail(Status(Errc::kNotFound, "no omap key '" + w[2] + "'"));
    if (json)
      print_json({{"key", w[2]}, {"value", printable(it->second)}});
    else
      std::printf("%s\n", printable(it->second).c_str());
    return 0;
  }
  if (cmd == "listomapvals" || cmd == "listomapkeys") {
    if (!need(2, "listomapvals OBJ")) return EINVAL;
    bool vals = cmd == "listomapvals";
    nlohmann::json j = vals ? nlohmann::json::object() : nlohmann::json::array();
    std::string after;
    while (true) {
      auto page = io.omap_get_vals(w[1], after, "", 512);
      if (!page.ok()) return fail(page.status());
      for (const auto& [k, v] : page->entries) {
        if (json && vals)
          j[k] = printable(v);
        else if (json)
          j.push_back(k);
        else if (vals)
          std::printf("%s\t%s\n", k.c_str(), printable(v).c_str());
        else
          std::printf("%s\n", k.c_str());
        after = k;
      }
      if (!page->more || page->entries.empty()) break;
    }
    if (json) print_json(j);
    return 0;
  }
  if (cmd == "rmomapkey") {
    if (!need(3, "rmomapkey OBJ KEY")) return EINVAL;
    Status st = io.omap_rm_keys(w[1], {w[2]});
    return st.ok() ? 0 : fail(st);
  }
  if (cmd == "bench") return bench(io, a, json);
  if (cmd == "cleanup") {
    auto meta = read_meta(io);
    if (!meta.ok()) return fail(meta.status());
    Status st = bench_cleanup(io, meta->prefix, meta->objects, a.concurrency);
    return st.ok() ? 0 : fail(st);
  }
  return usage_error("unknown rados command '" + cmd + "'");
}

}  // namespace

int run_rados(const std::string& mon_host, const std::vector<std::string>& words, bool json,
              milliseconds timeout) {
  auto a = parse_args(words);
  if (!a.ok()) return usage_error(a.status().message());
  if (a->words.empty() || a->words[0] == "help") {
    rados_usage();
    return a->words.empty() ? EINVAL : 0;
  }
  auto cluster = client::Cluster::connect(client::ClusterOptions::with_timeout(mon_host, timeout));
  if (!cluster.ok()) return fail(cluster.status());
  int rc = run_command(**cluster, *a, json);
  (*cluster)->shutdown();
  return rc;
}

}  // namespace cairn::tools
