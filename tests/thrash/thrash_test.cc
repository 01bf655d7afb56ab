// The thrash test (issue 7): a verified workload on a real cluster while a seeded
// schedule of faults runs, then a healed cluster must hold exactly what a
// linearizable history of acknowledged ops allows.
//
// Design
//   Cluster: 3 cairn-mon and 5 cairn-osd processes on 127.0.0.1 (tests/osd/
//   osd_cluster.h), one CRUSH host per OSD, a size-3 / min_size-2 pool of 16 PGs,
//   short heartbeat grace so failures are noticed in seconds. A sixth OSD is
//   pre-allocated and joins mid-run (backfill onto a new OSD).
//
//   Workload: 8 worker threads, each with one synchronous op in flight (8 in
//   flight in all) on one client, over 64 objects (so ops on one object overlap).
//   Ops: write_full, append, xattr set, omap set, exclusive create, remove, and a
//   read of the whole object (data, every xattr, the omap key). Every mutation also
//   sets xattr "t" in the same atomic op, so the object's state names the last
//   mutation; every payload (data record, "t", "x", omap "o") is a record that
//   carries the object's name, the op's unique tag, its kind and a crc32c, so a
//   read decodes into exactly which writes it saw, and a torn, mixed, misplaced
//   or duplicated payload is reported as corruption. Appends stack records, so a
//   read also shows which data each append landed on.
//
//   History: every op with its invoke/complete times (steady clock) and outcome:
//   ok; failed (definitely not applied: EEXIST on create, ENOENT on remove, which
//   are also observations); unknown (a timeout or another error: it may have been
//   applied, once, at any time after its invocation, or never).
//
//   Faults (a seeded PRNG drives what and when; the thread only sleeps between):
//   kill -9 an OSD and restart it (now and then a second one, so some PGs drop
//   below min_size); kill -9 a monitor and restart it (never two down: quorum
//   stays); `cairn osd out N` and later `in`; messenger cuts between two daemons
//   (`fault cut <entity>` on both admin sockets, then `fault clear`); and adding
//   the sixth OSD once.
//
//   Verdict: after the faults end, every cut is cleared, every daemon restarted,
//   every OSD marked in (the workload still running), then the workload stops and
//   all PGs must be active+clean within 180 s. Then every
//   object is read once more (those reads join the history) and the checker of
//   linearizability.h must accept each object's history: so no acknowledged write
//   is lost, a deleted object stays deleted, and no read saw a state that no order
//   of the ops explains. On failure the seed, the fault log and the shortest
//   non-linearizable prefix of the object's history are printed, and the daemons'
//   logs and the whole history (history.txt) are copied to
//   $CAIRN_THRASH_ARTIFACTS (default /tmp)/cairn-thrash-seed<N>-<pid>.
//
// Running
//   ctest --test-dir build -L thrash --output-on-failure     # the two CI runs (~2 min each)
//   build/bin/thrash_test --gtest_filter=Thrash.CiRunA       # one of them
//   Each run prints `THRASH SEED=<n>`. Replay a schedule with the same seed:
//     CAIRN_THRASH_SEED=<n> build/bin/thrash_test --gtest_filter=Thrash.CiRunA
//   (the seed fixes the fault schedule and the workload's choices; the exact
//   interleaving with the daemons is up to the machine, so a replay repeats the
//   same faults at the same times, not necessarily the same outcome).
//   Soak (outside CI; record results in docs/):
//     build/bin/thrash_test --gtest_filter=Thrash.Soak --minutes 30 [--seed N]
//   or CAIRN_THRASH_MINUTES=30 [CAIRN_THRASH_SEED=N]. CAIRN_KEEP_TEST_DIRS=1
//   keeps the cluster directory after a passing run too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/rados.h"
#include "common/checksum.h"
#include "common/log.h"
#include "linearizability.h"
#include "osd_cluster.h"

namespace cairn::test {
namespace {

using namespace std::chrono_literals;
using lin::hex;
using lin::kind_name;
using lin::OpKind;
using lin::Outcome;
using lin::Tag;
using Clock = std::chrono::steady_clock;

// Command-line / environment settings (main() fills them).
struct Settings {
  std::optional<uint64_t> seed;   // --seed / CAIRN_THRASH_SEED
  std::optional<double> minutes;  // --minutes / CAIRN_THRASH_MINUTES
  // CAIRN_THRASH_SABOTAGE=1: every 500th acknowledged write_full is recorded as
  // failed, to see the whole pipeline catch a lie (the run must then fail).
  bool sabotage = false;
};
Settings g_settings;

// The shape of a run. Limits are named so their reasons sit beside them.
struct RunConfig {
  uint64_t seed = 0;
  std::chrono::milliseconds thrash_for{100000};  // faults + workload
  int osds = 5;                                  // started at once; one more joins mid-run
  int objects = 64;                              // few, so ops on one object overlap
  int workers = 8;                               // ops in flight
  uint32_t pg_num = 16;
  std::chrono::milliseconds clean_bound{180000};  // healed cluster: all PGs active+clean
  std::chrono::milliseconds op_timeout{45000};    // > the longest planned outage (two OSDs ~15 s + peering)
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------
// Payload records: "TRC1" | u32 total length | u64 tag | u8 kind | u16 name
// length | name | filler | u32 crc32c of everything before it. Little endian.

constexpr char kMagic[4] = {'T', 'R', 'C', '1'};
constexpr size_t kRecordFixed = 4 + 4 + 8 + 1 + 2 + 4;

template <typename T>
void put(std::string& s, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    s.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}
template <typename T>
T get(std::string_view s, size_t off) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[off + i])) << (8 * i);
  return static_cast<T>(v);
}

std::string make_record(const std::string& name, Tag tag, OpKind kind, size_t filler) {
  std::string s(kMagic, 4);
  put<uint32_t>(s, static_cast<uint32_t>(kRecordFixed + name.size() + filler));
  put<uint64_t>(s, tag);
  put<uint8_t>(s, static_cast<uint8_t>(kind));
  put<uint16_t>(s, static_cast<uint16_t>(name.size()));
  s += name;
  uint64_t x = tag * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < filler; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    s.push_back(static_cast<char>(x >> 56));
  }
  put<uint32_t>(s, crc32c(s));
  return s;
}

struct Record {
  Tag tag = 0;
  OpKind kind = OpKind::kRead;
  std::string name;
};

// Decodes the record at `off` of `s`; sets `*len` to its length. An error names what is wrong.
Result<Record> decode_record(std::string_view s, size_t off, size_t* len) {
  if (s.size() - off < kRecordFixed) return Status(Errc::kCorrupt, "short record at " + std::to_string(off));
  if (std::memcmp(s.data() + off, kMagic, 4) != 0)
    return Status(Errc::kCorrupt, "bad magic at " + std::to_string(off));
  uint32_t n = get<uint32_t>(s, off + 4);
  uint16_t name_len = get<uint16_t>(s, off + 17);
  if (n < kRecordFixed + name_len || n > s.size() - off)
    return Status(Errc::kCorrupt, "bad record length " + std::to_string(n) + " at " + std::to_string(off));
  if (get<uint32_t>(s, off + n - 4) != crc32c(s.substr(off, n - 4)))
    return Status(Errc::kCorrupt, "record checksum mismatch at " + std::to_string(off));
  Record r;
  r.tag = get<uint64_t>(s, off + 8);
  r.kind = static_cast<OpKind>(get<uint8_t>(s, off + 16));
  r.name = std::string(s.substr(off + 19, name_len));
  *len = n;
  return r;
}

// ---------------------------------------------------------------------------
// The history: every op, what each tag was issued as, and what reads revealed.

class History {
 public:
  struct Issued {
    std::string object;
    OpKind kind;
  };

  uint64_t next_id() { return ids_.fetch_add(1) + 1; }
  Tag next_tag() { return tags_.fetch_add(1) + 1; }

  void issue(Tag tag, const std::string& object, OpKind kind) {
    std::lock_guard lk(mu_);
    issued_[tag] = {object, kind};
  }
  void record(const std::string& object, const lin::Op& op) {
    std::lock_guard lk(mu_);
    ops_[object].push_back(op);
  }
  void corruption(const std::string& what) {
    std::lock_guard lk(mu_);
    if (corruptions_.size() < 1000) corruptions_.push_back(what);
  }
  // A read saw append `tag` directly on data `pred` (0: first record).
  void saw_append(const std::string& object, Tag tag, Tag pred, uint64_t read_id) {
    std::lock_guard lk(mu_);
    auto [it, fresh] = append_pred_.emplace(tag, pred);
    if (!fresh && it->second != pred && corruptions_.size() < 1000)
      corruptions_.push_back(object + ": read #" + std::to_string(read_id) + " saw append " + hex(tag) +
                             " on data " + hex(pred) + ", another read saw it on " + hex(it->second) +
                             " (divergent copies)");
  }
  std::optional<Issued> issued(Tag tag) const {
    std::lock_guard lk(mu_);
    auto it = issued_.find(tag);
    if (it == issued_.end()) return std::nullopt;
    return it->second;
  }

  // The per-object histories with the appends' observed predecessors filled in.
  std::map<std::string, std::vector<lin::Op>> for_checker() const {
    std::lock_guard lk(mu_);
    auto out = ops_;
    for (auto& [name, ops] : out)
      for (auto& op : ops)
        if (op.kind == OpKind::kAppend) {
          auto it = append_pred_.find(op.tag);
          if (it != append_pred_.end()) op.append_pred = it->second;
        }
    return out;
  }
  std::vector<std::string> corruptions() const {
    std::lock_guard lk(mu_);
    return corruptions_;
  }
  // Counts "kind outcome" -> n.
  std::map<std::string, int> tally() const {
    std::lock_guard lk(mu_);
    std::map<std::string, int> t;
    for (const auto& [name, ops] : ops_)
      for (const auto& op : ops)
        t[std::string(kind_name(op.kind)) + " " +
          (op.outcome == Outcome::kOk       ? "ok"
           : op.outcome == Outcome::kFailed ? "failed"
                                            : "unknown")]++;
    return t;
  }

 private:
  std::atomic<uint64_t> ids_{0}, tags_{0};
  mutable std::mutex mu_;
  std::map<std::string, std::vector<lin::Op>> ops_;  // guarded by mu_
  std::map<Tag, Issued> issued_;                     // guarded by mu_
  std::map<Tag, Tag> append_pred_;                   // guarded by mu_
  std::vector<std::string> corruptions_;             // guarded by mu_
};

// ---------------------------------------------------------------------------
// The workload.

class Workload {
 public:
  Workload(client::IoCtx io, History& h, const RunConfig& cfg) : io_(std::move(io)), h_(h), cfg_(cfg) {
    for (int i = 0; i < cfg.objects; ++i) names_.push_back("thrash-obj-" + std::to_string(i));
  }
  ~Workload() { stop(); }

  void start() {
    for (int w = 0; w < cfg_.workers; ++w) threads_.emplace_back([this, w] { run(w); });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  const std::vector<std::string>& names() const { return names_; }

  // Reads `name` into the history (worker id -1: the final check). Returns the
  // outcome: kOk (with the state seen) or kUnknown (no answer).
  Outcome read(int worker, const std::string& name, lin::ObjState* seen = nullptr);

 private:
  void run(int w);
  void mutate(int w, const std::string& name, OpKind kind, std::mt19937_64& rng);
  // Decodes a read's reply into a state; false (and a corruption noted) if it is not well formed.
  bool decode_state(const std::string& name, uint64_t id, const client::OpReply& r, lin::ObjState* s);
  bool check_record(const std::string& name, uint64_t id, const Record& rec, OpKind want, const char* where);

  client::IoCtx io_;
  History& h_;
  const RunConfig& cfg_;
  std::vector<std::string> names_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

void Workload::run(int w) {
  std::mt19937_64 rng(cfg_.seed * 1000003 + static_cast<uint64_t>(w) + 1);
  while (!stop_) {
    const std::string& name = names_[rng() % names_.size()];
    int k = static_cast<int>(rng() % 100);
    if (k < 30) {
      read(w, name);
      continue;
    }
    OpKind kind = k < 45   ? OpKind::kWriteFull
                  : k < 65 ? OpKind::kAppend
                  : k < 75 ? OpKind::kSetXattr
                  : k < 85 ? OpKind::kSetOmap
                  : k < 90 ? OpKind::kCreate
                           : OpKind::kRemove;
    mutate(w, name, kind, rng);
  }
}

void Workload::mutate(int w, const std::string& name, OpKind kind, std::mt19937_64& rng) {
  lin::Op op;
  op.kind = kind;
  op.worker = w;
  op.id = h_.next_id();
  client::WriteOp wo;
  if (kind != OpKind::kRemove) {
    op.tag = h_.next_tag();
    h_.issue(op.tag, name, kind);
    std::string tag_rec = make_record(name, op.tag, kind, 0);
    switch (kind) {
      case OpKind::kWriteFull:
        wo.write_full(BufferList::copy_of(make_record(name, op.tag, kind, rng() % 3000)));
        break;
      case OpKind::kAppend:
        wo.append(BufferList::copy_of(make_record(name, op.tag, kind, rng() % 400)));
        break;
      case OpKind::kSetXattr:
        wo.setxattr("x", BufferList::copy_of(make_record(name, op.tag, kind, rng() % 200)));
        break;
      case OpKind::kSetOmap: {
        std::map<std::string, BufferList> kv;
        kv["o"] = BufferList::copy_of(make_record(name, op.tag, kind, rng() % 200));
        wo.omap_set(std::move(kv));
        break;
      }
      case OpKind::kCreate: wo.create(true); break;
      default: break;
    }
    wo.setxattr("t", BufferList::copy_of(tag_rec));
  } else {
    wo.remove();
  }
  op.invoke_ns = now_ns();
  Status st = io_.operate(name, wo);
  op.complete_ns = now_ns();
  if (st.ok())
    op.outcome = g_settings.sabotage && kind == OpKind::kWriteFull && op.tag % 500 == 0 ? Outcome::kFailed
                                                                                        : Outcome::kOk;
  else if ((kind == OpKind::kCreate && st.code() == Errc::kExists) ||
           (kind == OpKind::kRemove && st.code() == Errc::kNotFound))
    op.outcome = Outcome::kFailed;
  else
    op.outcome = Outcome::kUnknown;  // timed out, reset, EIO...: it may or may not have landed
  h_.record(name, op);
}

Outcome Workload::read(int worker, const std::string& name, lin::ObjState* seen) {
  lin::Op op;
  op.kind = OpKind::kRead;
  op.worker = worker;
  op.id = h_.next_id();
  client::ReadOp ro;
  ro.read(0, 0);
  ro.getxattrs();
  ro.omap_get_by_keys({"o"});
  op.invoke_ns = now_ns();
  auto r = io_.operate(name, ro);
  op.complete_ns = now_ns();
  if (r.ok()) {
    op.outcome = decode_state(name, op.id, *r, &op.observed) ? Outcome::kOk : Outcome::kUnknown;
  } else if (r.status().code() == Errc::kNotFound) {
    op.outcome = Outcome::kOk;  // absent
  } else {
    op.outcome = Outcome::kUnknown;
  }
  h_.record(name, op);
  if (seen) *seen = op.observed;
  return op.outcome;
}

bool Workload::check_record(const std::string& name, uint64_t id, const Record& rec, OpKind want,
                            const char* where) {
  auto iss = h_.issued(rec.tag);
  std::string why;
  if (rec.name != name)
    why = "belongs to object " + rec.name;
  else if (!iss)
    why = "tag was never issued";
  else if (iss->object != name || iss->kind != rec.kind)
    why = "tag was issued as " + std::string(kind_name(iss->kind)) + " of " + iss->object;
  else if (rec.kind != want && !(want == OpKind::kWriteFull && rec.kind == OpKind::kAppend))
    why = "a " + std::string(kind_name(rec.kind)) + " record where a " + kind_name(want) + " belongs";
  if (why.empty()) return true;
  h_.corruption(name + ": read #" + std::to_string(id) + ": " + where + " record " + hex(rec.tag) + " " +
                why);
  return false;
}

bool Workload::decode_state(const std::string& name, uint64_t id, const client::OpReply& r,
                            lin::ObjState* s) {
  auto data = r.data(0);
  auto xattrs = r.kv_map(1);
  auto omap = r.kv_map(2);
  auto bad = [&](const std::string& why) {
    h_.corruption(name + ": read #" + std::to_string(id) + ": " + why);
    return false;
  };
  if (!data.ok() || !xattrs.ok() || !omap.ok())
    return bad("sub-op failed on an existing object: " + (!data.ok()     ? data.status()
                                                          : !xattrs.ok() ? xattrs.status()
                                                                         : omap.status())
                                                             .to_string());
  *s = {};
  for (const auto& [k, v] : *xattrs) {
    std::string bytes = v.to_string();
    size_t len = 0;
    auto rec = decode_record(bytes, 0, &len);
    if (!rec.ok() || len != bytes.size())
      return bad("xattr " + k + ": " + (rec.ok() ? "trailing bytes" : rec.status().to_string()));
    if (k == "t") {
      if (!check_record(name, id, *rec, rec->kind, "xattr t")) return false;
      if (rec->kind == OpKind::kRemove || rec->kind == OpKind::kRead)
        return bad("xattr t has kind " + std::string(kind_name(rec->kind)));
      s->tag = rec->tag;
    } else if (k == "x") {
      if (!check_record(name, id, *rec, OpKind::kSetXattr, "xattr x")) return false;
      s->xattr = rec->tag;
    } else {
      return bad("unexpected xattr " + k);
    }
  }
  if (s->tag == lin::kNoTag) return bad("an existing object without xattr t");
  for (const auto& [k, v] : *omap) {
    std::string bytes = v.to_string();
    size_t len = 0;
    auto rec = decode_record(bytes, 0, &len);
    if (k != "o" || !rec.ok() || len != bytes.size()) return bad("omap " + k + " malformed");
    if (!check_record(name, id, *rec, OpKind::kSetOmap, "omap o")) return false;
    s->omap = rec->tag;
  }
  std::string bytes = data->to_string();
  std::set<Tag> seen;
  Tag pred = lin::kNoTag;
  for (size_t off = 0; off < bytes.size();) {
    size_t len = 0;
    auto rec = decode_record(bytes, off, &len);
    if (!rec.ok())
      return bad("data (" + std::to_string(bytes.size()) + " bytes): " + rec.status().to_string());
    if (!check_record(name, id, *rec, off == 0 ? OpKind::kWriteFull : OpKind::kAppend, "data")) return false;
    if (!seen.insert(rec->tag).second)
      return bad("data holds record " + hex(rec->tag) + " twice (applied twice?)");
    if (rec->kind == OpKind::kAppend) h_.saw_append(name, rec->tag, pred, id);
    pred = rec->tag;
    off += len;
  }
  s->data = pred;
  return true;
}

// ---------------------------------------------------------------------------
// The fault schedule.

class Nemesis {
 public:
  Nemesis(OsdCluster& c, const RunConfig& cfg, int64_t t0_ns) : c_(c), cfg_(cfg), rng_(cfg.seed), t0_(t0_ns) {
    mon_up_.assign(static_cast<size_t>(c.mons.size()), true);
    osd_up_.assign(static_cast<size_t>(c.num_osds()), false);
    for (int i = 0; i < cfg.osds; ++i) osd_up_[i] = true;
    out_.assign(static_cast<size_t>(c.num_osds()), false);
  }

  // Runs faults until `until` (steady clock).
  void run(Clock::time_point until);
  // Clears every cut, restarts every daemon, marks every OSD in.
  void heal_all();
  // Prints and keeps a line of the fault log.
  void note(const std::string& what);
  const std::vector<std::string>& log() const { return log_; }
  int live_osds() const { return added_ ? cfg_.osds + 1 : cfg_.osds; }

 private:
  struct Heal {
    Clock::time_point at;
    std::function<void()> fn;
  };
  std::chrono::milliseconds uniform(int lo_ms, int hi_ms) {
    return std::chrono::milliseconds(lo_ms +
                                     static_cast<int>(rng_() % static_cast<uint64_t>(hi_ms - lo_ms + 1)));
  }
  void one_fault(Clock::time_point now, Clock::time_point until);
  bool kill_osd(Clock::time_point now);
  bool kill_mon(Clock::time_point now);
  bool mark_out(Clock::time_point now);
  bool cut(Clock::time_point now);
  void cut_pair(const std::string& a, const std::string& b, bool on);
  std::string admin(const std::string& daemon, const std::string& line);
  std::vector<int> running_osds() const;

  OsdCluster& c_;
  const RunConfig& cfg_;
  std::mt19937_64 rng_;
  int64_t t0_;
  std::vector<bool> mon_up_, osd_up_, out_;
  bool mon_fault_ = false;  // a monitor is down: never take another
  bool added_ = false;
  std::set<std::pair<std::string, std::string>> cuts_;
  std::vector<Heal> heals_;
  std::vector<std::string> log_;
};

void Nemesis::note(const std::string& what) {
  char b[32];
  std::snprintf(b, sizeof b, "[+%7.3fs] ", static_cast<double>(now_ns() - t0_) / 1e9);
  log_.push_back(b + what);
  std::printf("THRASH %s\n", log_.back().c_str());
  std::fflush(stdout);
}

std::vector<int> Nemesis::running_osds() const {
  std::vector<int> v;
  for (int i = 0; i < c_.num_osds(); ++i)
    if (osd_up_[i]) v.push_back(i);
  return v;
}

std::string Nemesis::admin(const std::string& daemon, const std::string& line) {
  if (daemon.rfind("osd.", 0) == 0) {
    int i = std::stoi(daemon.substr(4));
    return osd_up_[i] ? c_.osd_admin(i, line) : "";
  }
  for (int i = 0; i < c_.mons.size(); ++i)
    if ("mon." + c_.mons.name(i) == daemon) return mon_up_[i] ? c_.mons.admin(i, line) : "";
  return "";
}

void Nemesis::cut_pair(const std::string& a, const std::string& b, bool on) {
  const char* verb = on ? "fault cut " : "fault clear ";
  admin(a, verb + b);
  admin(b, verb + a);
}

void Nemesis::run(Clock::time_point until) {
  Clock::time_point next_fault = Clock::now() + uniform(1000, 4000);
  // The new OSD joins somewhere in the middle of the run.
  auto span_ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  Clock::time_point add_at =
      Clock::now() +
      std::chrono::milliseconds(span_ms / 4 + static_cast<int64_t>(rng_() % 1000) * span_ms / 3000);
  while (Clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    auto now = Clock::now();
    for (size_t i = 0; i < heals_.size();) {
      if (heals_[i].at <= now) {
        auto fn = std::move(heals_[i].fn);
        heals_.erase(heals_.begin() + static_cast<long>(i));
        fn();
      } else {
        ++i;
      }
    }
    if (!added_ && now >= add_at && c_.num_osds() > cfg_.osds) {
      int i = cfg_.osds;
      Status st = c_.start_osd(i);
      osd_up_[i] = st.ok();
      added_ = true;
      note("add osd." + std::to_string(i) + (st.ok() ? "" : " failed: " + st.to_string()));
    }
    if (now >= next_fault) {
      one_fault(now, until);
      next_fault = now + uniform(1500, 4500);
    }
  }
}

void Nemesis::one_fault(Clock::time_point now, Clock::time_point until) {
  // Leave the last seconds quiet-ish: heals still run, no new faults start.
  if (until - now < 3s) return;
  int k = static_cast<int>(rng_() % 100);
  bool done = k < 40   ? kill_osd(now)
              : k < 50 ? kill_mon(now)
              : k < 65 ? mark_out(now)
              : k < 90 ? cut(now)
                       : false;
  if (!done && k < 90) note("(no fault: none applicable)");
}

bool Nemesis::kill_osd(Clock::time_point now) {
  auto up = running_osds();
  int down = live_osds() - static_cast<int>(up.size());
  // Mostly one OSD down at a time; sometimes a second (PGs below min_size block).
  bool second = down == 1 && rng_() % 3 == 0;
  if (up.empty() || (down >= 1 && !second) || down >= 2) return false;
  int i = up[rng_() % up.size()];
  c_.kill9_osd(i);
  osd_up_[i] = false;
  auto back = second ? uniform(2000, 8000) : uniform(2000, 12000);
  note("kill -9 osd." + std::to_string(i) + (second ? " (second down)" : "") + ", restart in " +
       std::to_string(back.count()) + " ms");
  heals_.push_back({now + back, [this, i] {
                      Status st = c_.start_osd(i);
                      osd_up_[i] = st.ok();
                      note("restart osd." + std::to_string(i) +
                           (st.ok() ? "" : " failed: " + st.to_string()));
                    }});
  return true;
}

bool Nemesis::kill_mon(Clock::time_point now) {
  if (mon_fault_) return false;
  int i = static_cast<int>(rng_() % static_cast<uint64_t>(c_.mons.size()));
  c_.mons.kill9(i);
  mon_up_[i] = false;
  mon_fault_ = true;
  auto back = uniform(4000, 12000);
  note("kill -9 mon." + c_.mons.name(i) + ", restart in " + std::to_string(back.count()) + " ms");
  heals_.push_back({now + back, [this, i] {
                      Status st = c_.mons.start(i);
                      mon_up_[i] = st.ok();
                      mon_fault_ = !st.ok();
                      note("restart mon." + c_.mons.name(i) + (st.ok() ? "" : " failed: " + st.to_string()));
                    }});
  return true;
}

bool Nemesis::mark_out(Clock::time_point now) {
  std::vector<int> in;
  int outs = 0;
  for (int i = 0; i < live_osds(); ++i) {
    if (out_[i])
      ++outs;
    else
      in.push_back(i);
  }
  if (outs >= 1 || in.empty()) return false;
  int i = in[rng_() % in.size()];
  auto r = c_.mons.cli({"osd", "out", std::to_string(i)}, false, 15);
  out_[i] = true;
  auto back = uniform(5000, 20000);
  note("osd out " + std::to_string(i) + (r.exit_code == 0 ? "" : " (cli failed: " + r.err + ")") +
       ", in after " + std::to_string(back.count()) + " ms");
  heals_.push_back({now + back, [this, i] {
                      auto r2 = c_.mons.cli({"osd", "in", std::to_string(i)}, false, 15);
                      out_[i] = r2.exit_code != 0;
                      note("osd in " + std::to_string(i) +
                           (r2.exit_code == 0 ? "" : " (cli failed: " + r2.err + ")"));
                    }});
  return true;
}

bool Nemesis::cut(Clock::time_point now) {
  // osd <-> osd, or osd <-> mon (never mon <-> mon: with a monitor down that could cost quorum).
  int n = live_osds();
  std::string a = "osd." + std::to_string(rng_() % static_cast<uint64_t>(n));
  std::string b;
  if (rng_() % 3 == 0) {
    b = "mon." + c_.mons.name(static_cast<int>(rng_() % static_cast<uint64_t>(c_.mons.size())));
  } else {
    b = "osd." + std::to_string(rng_() % static_cast<uint64_t>(n));
    if (b == a) return false;
  }
  std::pair<std::string, std::string> key = a < b ? std::pair(a, b) : std::pair(b, a);
  if (cuts_.count(key) || cuts_.size() >= 2) return false;
  cuts_.insert(key);
  cut_pair(a, b, true);
  auto back = uniform(3000, 10000);
  note("cut " + a + " <-> " + b + ", clear in " + std::to_string(back.count()) + " ms");
  heals_.push_back({now + back, [this, a, b, key] {
                      cut_pair(a, b, false);
                      cuts_.erase(key);
                      note("clear " + a + " <-> " + b);
                    }});
  return true;
}

void Nemesis::heal_all() {
  heals_.clear();
  for (int i = 0; i < c_.mons.size(); ++i)
    if (!mon_up_[i]) {
      mon_up_[i] = c_.mons.start(i).ok();
      note("heal: restart mon." + c_.mons.name(i));
    }
  mon_fault_ = false;
  for (int i = 0; i < live_osds(); ++i)
    if (!osd_up_[i]) {
      osd_up_[i] = c_.start_osd(i).ok();
      note("heal: restart osd." + std::to_string(i));
    }
  // Clear every cut on every daemon (restarted ones start clean; the others may hold one).
  std::vector<std::string> all;
  for (int i = 0; i < live_osds(); ++i) all.push_back("osd." + std::to_string(i));
  for (int i = 0; i < c_.mons.size(); ++i) all.push_back("mon." + c_.mons.name(i));
  for (const auto& [a, b] : cuts_) note("heal: clear " + a + " <-> " + b);
  for (const auto& d : all)
    for (const auto& e : all)
      if (d != e) admin(d, "fault clear " + e);
  cuts_.clear();
  std::vector<std::string> in{"osd", "in"};
  for (int i = 0; i < live_osds(); ++i) in.push_back(std::to_string(i));
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (c_.mons.cli(in, false, 15).exit_code == 0) break;
    std::this_thread::sleep_for(2s);
  }
  std::fill(out_.begin(), out_.end(), false);
  note("heal: every OSD in");
}

// ---------------------------------------------------------------------------
// One run.

void write_history(const std::string& path, const std::map<std::string, std::vector<lin::Op>>& h,
                   int64_t t0) {
  std::ofstream f(path);
  for (const auto& [name, ops] : h) {
    f << "== " << name << "\n";
    auto sorted = ops;
    std::sort(sorted.begin(), sorted.end(),
              [](const lin::Op& a, const lin::Op& b) { return a.invoke_ns < b.invoke_ns; });
    for (const auto& op : sorted) f << "  " << lin::describe_op(op, t0) << "\n";
  }
}

void run_thrash(RunConfig cfg) {
  std::printf("THRASH SEED=%" PRIu64 " (replay: CAIRN_THRASH_SEED=%" PRIu64 "), thrashing for %.0f s\n",
              cfg.seed, cfg.seed, static_cast<double>(cfg.thrash_for.count()) / 1000);
  std::fflush(stdout);
  OsdCluster c(
      3, cfg.osds + 1,
      {"--osd-heartbeat-grace", "3s", "--mon-osd-beacon-timeout", "20s", "--mon-osd-down-out-interval",
       "30s"},
      {"--osd-heartbeat-grace", "3s", "--osd-heartbeat-interval", "500ms", "--osd-stats-interval", "1s"},
      "2G");
  bool passed = false;
  struct KeepOnFailure {
    const OsdCluster& c;
    const bool& passed;
    ~KeepOnFailure() {
      if (!passed) {
        setenv("CAIRN_KEEP_TEST_DIRS", "1", 1);
        std::printf("THRASH cluster directory kept: %s\n", c.mons.dir().c_str());
      }
    }
  } keep{c, passed};
  std::printf("THRASH cluster directory: %s\n", c.mons.dir().c_str());

  // Start monitors and the first `osds` OSDs; the last one joins mid-run.
  ASSERT_TRUE(c.mons.start_all().ok());
  ASSERT_GE(c.mons.wait_leader(30s), 0);
  for (int i = 0; i < cfg.osds; ++i) ASSERT_TRUE(c.start_osd(i).ok());
  for (int i = 0; i < cfg.osds; ++i) ASSERT_TRUE(c.wait_osd_state(i, true, 30s)) << "osd." << i;
  ASSERT_TRUE(c.create_pool("thrash", static_cast<int>(cfg.pg_num), 3, 2).ok());
  ASSERT_TRUE(c.wait_clean(60s)) << c.mons.cli({"pg", "dump"}).out;

  client::ClusterOptions o;
  o.mon_host = c.mons.mon_host();
  o.op_timeout = cfg.op_timeout;
  o.attempt_timeout = 5s;
  auto cl = client::Cluster::connect(o);
  ASSERT_TRUE(cl.ok()) << cl.status().to_string();
  auto io = (*cl)->io_ctx("thrash");
  ASSERT_TRUE(io.ok()) << io.status().to_string();

  History h;
  const int64_t t0 = now_ns();
  Workload w(*io, h, cfg);
  Nemesis nem(c, cfg, t0);
  w.start();
  nem.run(Clock::now() + cfg.thrash_for);
  // Heal first, with the workload still running (an op blocked behind a cut would
  // otherwise wait out its whole timeout), then stop it.
  nem.note("faults over; healing");
  nem.heal_all();
  w.stop();
  nem.note("workload stopped");
  for (int i = 0; i < nem.live_osds(); ++i)
    EXPECT_TRUE(c.wait_osd_state(i, true, 60s))
        << "osd." << i << " not up after healing; see " << c.osd_log(i);
  // Let fresh PG stats reach the monitors, so "clean" is not the state from before a restart.
  std::this_thread::sleep_for(3s);
  auto heal_start = Clock::now();
  bool clean = c.wait_clean(cfg.clean_bound);
  double heal_s = std::chrono::duration<double>(Clock::now() - heal_start).count();
  nem.note(clean ? "all PGs active+clean after " + std::to_string(heal_s) + " s"
                 : "NOT active+clean after " + std::to_string(heal_s) + " s");
  EXPECT_TRUE(clean) << "PGs not active+clean within " << cfg.clean_bound.count() / 1000 << " s of healing:\n"
                     << c.mons.cli({"pg", "dump"}).out;

  // Final reads: every object, into the history (retried while the cluster cannot answer).
  // An unhealed cluster may not answer at all: then give up early (each try waits op_timeout).
  int unanswered = 0;
  for (const auto& name : w.names()) {
    bool answered = false;
    for (int attempt = 0; attempt < (clean ? 3 : 1) && !answered; ++attempt)
      answered = w.read(-1, name) == Outcome::kOk;
    if (!answered) {
      ++unanswered;
      ADD_FAILURE() << "final read of " << name << " got no answer";
      if (unanswered >= 4) break;
    }
  }
  nem.note("final reads done (" + std::to_string(unanswered) + " unanswered)");

  // The verdict.
  auto hist = h.for_checker();
  write_history(c.mons.dir() + "/history.txt", hist, t0);
  lin::CheckOptions co;
  co.t0_ns = t0;
  auto check_start = Clock::now();
  auto res = lin::check_history(hist, co);
  double check_s = std::chrono::duration<double>(Clock::now() - check_start).count();
  std::string tally;
  for (const auto& [k, n] : h.tally()) tally += "  " + k + ": " + std::to_string(n) + "\n";
  std::printf("THRASH %zu ops on %zu objects, checked in %.2f s:\n%s", res.ops, res.objects, check_s,
              tally.c_str());

  auto corrupt = h.corruptions();
  for (const auto& s : corrupt) ADD_FAILURE() << "SEED=" << cfg.seed << " corrupt payload: " << s;
  for (const auto& name : res.failed)
    ADD_FAILURE() << "SEED=" << cfg.seed << " history of " << name << " is not linearizable:\n"
                  << res.results.at(name).description;
  for (const auto& name : res.inconclusive)
    ADD_FAILURE() << "SEED=" << cfg.seed << " checker gave up on " << name << " after "
                  << res.results.at(name).steps << " steps";
  passed = !::testing::Test::HasFailure();
  if (!passed) {
    std::printf("THRASH FAILED with SEED=%" PRIu64 "; fault log:\n", cfg.seed);
    for (const auto& l : nem.log()) std::printf("  %s\n", l.c_str());
    // The daemons' logs and the history, copied out of the cluster directory (which
    // holds device files of gigabytes).
    const char* base = std::getenv("CAIRN_THRASH_ARTIFACTS");
    std::string out = std::string(base ? base : "/tmp") + "/cairn-thrash-seed" + std::to_string(cfg.seed) +
                      "-" + std::to_string(getpid());
    std::string cmd =
        "mkdir -p " + out + " && cp " + c.mons.dir() + "/*.log " + c.mons.dir() + "/history.txt " + out;
    int rc = std::system(cmd.c_str());
    std::printf("THRASH logs and history.txt: %s%s\n", out.c_str(), rc == 0 ? "" : " (copy failed)");
  }
  (*cl)->shutdown();
}

uint64_t seed_or(uint64_t fixed) { return g_settings.seed ? *g_settings.seed : fixed; }

TEST(Thrash, CiRunA) {
  RunConfig cfg;
  cfg.seed = seed_or(0x7e57'0001);
  run_thrash(cfg);
}

TEST(Thrash, CiRunB) {
  RunConfig cfg;
  cfg.seed = seed_or(0x7e57'0002);
  run_thrash(cfg);
}

TEST(Thrash, Soak) {
  if (!g_settings.minutes) GTEST_SKIP() << "a soak runs with --minutes N (or CAIRN_THRASH_MINUTES)";
  RunConfig cfg;
  cfg.seed =
      g_settings.seed
          ? *g_settings.seed
          : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007;
  cfg.thrash_for = std::chrono::milliseconds(static_cast<int64_t>(*g_settings.minutes * 60000));
  cfg.clean_bound = 300s;
  run_thrash(cfg);
}

}  // namespace
}  // namespace cairn::test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // The client's connection churn under faults is expected; keep the output to the fault log.
  cairn::log::configure("warn");
  auto& s = cairn::test::g_settings;
  if (const char* e = std::getenv("CAIRN_THRASH_SEED")) s.seed = std::strtoull(e, nullptr, 0);
  if (const char* e = std::getenv("CAIRN_THRASH_MINUTES")) s.minutes = std::strtod(e, nullptr);
  s.sabotage = std::getenv("CAIRN_THRASH_SABOTAGE") != nullptr;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0) s.seed = std::strtoull(argv[i + 1], nullptr, 0);
    if (std::strcmp(argv[i], "--minutes") == 0) s.minutes = std::strtod(argv[i + 1], nullptr);
  }
  return RUN_ALL_TESTS();
}
