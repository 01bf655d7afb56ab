#include "linearizability.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <unordered_set>

namespace cairn::test::lin {

bool step(const Op& op, const ObjState& s, ObjState* out) {
  switch (op.kind) {
    case OpKind::kWriteFull: *out = {op.tag, op.tag, s.omap, s.xattr}; return true;
    case OpKind::kAppend:
      if (op.append_pred != kAnyPred && s.data != op.append_pred) return false;
      *out = {op.tag, op.tag, s.omap, s.xattr};
      return true;
    case OpKind::kSetXattr: *out = {op.tag, s.data, s.omap, op.tag}; return true;
    case OpKind::kSetOmap: *out = {op.tag, s.data, op.tag, s.xattr}; return true;
    case OpKind::kCreate:
      if (op.outcome == Outcome::kFailed) {  // EEXIST: an observation
        *out = s;
        return s.exists();
      }
      if (s.exists()) return false;
      *out = {op.tag, kNoTag, kNoTag, kNoTag};
      return true;
    case OpKind::kRemove:
      if (op.outcome == Outcome::kFailed) {  // ENOENT: an observation
        *out = s;
        return !s.exists();
      }
      if (!s.exists()) return false;
      *out = {};
      return true;
    case OpKind::kRead: *out = s; return s == op.observed;
  }
  return false;
}

namespace {

bool is_mutation(const Op& op) { return op.kind != OpKind::kRead && op.outcome != Outcome::kFailed; }

// Whether `op` takes part in the search at all: failed mutations (other than the
// create/remove observations) and reads without an answer say nothing.
bool informative(const Op& op) {
  if (op.kind == OpKind::kRead) return op.outcome == Outcome::kOk;
  if (op.outcome == Outcome::kFailed) return op.kind == OpKind::kCreate || op.kind == OpKind::kRemove;
  return true;
}

struct Event {
  int64_t t;
  bool call;
  int op;
};

// Call/return events in time order. At equal times calls go first, so ops that
// touch at one instant count as concurrent (the permissive reading).
std::vector<Event> make_events(const std::vector<Op>& ops) {
  std::vector<Event> ev;
  for (size_t i = 0; i < ops.size(); ++i) {
    ev.push_back({ops[i].invoke_ns, true, static_cast<int>(i)});
    if (ops[i].outcome != Outcome::kUnknown) ev.push_back({ops[i].complete_ns, false, static_cast<int>(i)});
  }
  std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) {
    if (a.t != b.t) return a.t < b.t;
    return a.call && !b.call;
  });
  return ev;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

// A memo entry: the set of linearized ops and the state it led to.
struct Memo {
  std::vector<uint64_t> bits;
  ObjState state;
  uint64_t hash;
  bool operator==(const Memo& o) const { return hash == o.hash && state == o.state && bits == o.bits; }
};
struct MemoHash {
  size_t operator()(const Memo& m) const { return m.hash; }
};

// The search proper, over informative ops only.
Verdict search(const std::vector<Op>& ops, uint64_t max_steps, uint64_t* steps_out) {
  const int n = static_cast<int>(ops.size());
  std::vector<Event> ev = make_events(ops);
  const int ne = static_cast<int>(ev.size());
  // A doubly linked list over the events; node 0 is the head sentinel, event i is node i+1.
  std::vector<int> next(ne + 1), prev(ne + 1);
  for (int i = 0; i <= ne; ++i) {
    next[i] = i + 1 <= ne ? i + 1 : -1;
    prev[i] = i - 1;
  }
  std::vector<int> call_node(n, -1), ret_node(n, -1);
  for (int i = 0; i < ne; ++i) (ev[i].call ? call_node : ret_node)[ev[i].op] = i + 1;
  auto unlink = [&](int x) {
    next[prev[x]] = next[x];
    if (next[x] >= 0) prev[next[x]] = prev[x];
  };
  auto relink = [&](int x) {
    next[prev[x]] = x;
    if (next[x] >= 0) prev[next[x]] = x;
  };

  std::vector<uint64_t> zobrist(n);
  for (int i = 0; i < n; ++i) zobrist[i] = mix(0x9e3779b97f4a7c15ull * (i + 1));
  auto state_hash = [](const ObjState& s) {
    return mix(s.tag ^ mix(s.data ^ mix(s.omap ^ mix(s.xattr + 1))));
  };

  int remaining = 0;  // ops of known outcome not linearized yet
  for (const Op& op : ops) remaining += op.outcome != Outcome::kUnknown;

  struct Frame {
    int op;
    ObjState before;
  };
  std::vector<Frame> stack;
  std::unordered_set<Memo, MemoHash> memo;
  Memo cur{std::vector<uint64_t>((n + 63) / 64, 0), {}, 0};
  uint64_t zob = 0;
  ObjState state;
  uint64_t steps = 0;
  int node = next[0];
  Verdict verdict = Verdict::kLinearizable;
  for (;;) {
    if (remaining == 0) break;
    if (++steps > max_steps) {
      verdict = Verdict::kInconclusive;
      break;
    }
    if (node < 0) {  // cannot happen: a return event is always ahead while `remaining` > 0
      verdict = Verdict::kNotLinearizable;
      break;
    }
    const Event& e = ev[node - 1];
    if (e.call) {
      ObjState ns;
      const Op& op = ops[e.op];
      if (step(op, state, &ns)) {
        cur.bits[e.op / 64] |= 1ull << (e.op % 64);
        cur.state = ns;
        cur.hash = zob ^ zobrist[e.op] ^ state_hash(ns);
        if (memo.insert(cur).second) {
          stack.push_back({e.op, state});
          state = ns;
          zob ^= zobrist[e.op];
          if (ret_node[e.op] >= 0) unlink(ret_node[e.op]);
          unlink(call_node[e.op]);
          if (op.outcome != Outcome::kUnknown) --remaining;
          node = next[0];
          continue;
        }
        cur.bits[e.op / 64] &= ~(1ull << (e.op % 64));
      }
      node = next[node];
      continue;
    }
    // A return event: its op must already have taken effect. Undo the last choice.
    if (stack.empty()) {
      verdict = Verdict::kNotLinearizable;
      break;
    }
    Frame f = stack.back();
    stack.pop_back();
    state = f.before;
    zob ^= zobrist[f.op];
    cur.bits[f.op / 64] &= ~(1ull << (f.op % 64));
    relink(call_node[f.op]);
    if (ret_node[f.op] >= 0) relink(ret_node[f.op]);
    if (ops[f.op].outcome != Outcome::kUnknown) ++remaining;
    node = next[call_node[f.op]];
  }
  *steps_out = steps;
  return verdict;
}

// The history cut after `cut` events (of `ev`): ops invoked before the cut; those
// not complete by then become pending (mutations: unknown; observations: dropped).
std::vector<Op> prefix(const std::vector<Op>& ops, const std::vector<Event>& ev, size_t cut) {
  std::vector<char> called(ops.size(), 0), returned(ops.size(), 0);
  for (size_t i = 0; i < cut; ++i) (ev[i].call ? called : returned)[ev[i].op] = 1;
  std::vector<Op> out;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!called[i]) continue;
    Op op = ops[i];
    if (!returned[i] && op.outcome != Outcome::kUnknown) {
      if (!is_mutation(op)) continue;
      op.outcome = Outcome::kUnknown;
    }
    out.push_back(op);
  }
  return out;
}

}  // namespace

const char* kind_name(OpKind k) {
  switch (k) {
    case OpKind::kWriteFull: return "write_full";
    case OpKind::kAppend: return "append";
    case OpKind::kSetXattr: return "set_xattr";
    case OpKind::kSetOmap: return "set_omap";
    case OpKind::kCreate: return "create";
    case OpKind::kRemove: return "remove";
    case OpKind::kRead: return "read";
  }
  return "?";
}

std::string hex(Tag t) {
  char b[24];
  std::snprintf(b, sizeof b, "%" PRIx64, t);
  return b;
}

std::string describe_state(const ObjState& s) {
  if (!s.exists()) return s == ObjState{} ? "absent" : "absent?{" + hex(s.data) + "}";
  return "{tag " + hex(s.tag) + ", data " + hex(s.data) + ", omap " + hex(s.omap) + ", xattr " +
         hex(s.xattr) + "}";
}

std::string describe_op(const Op& op, int64_t t0_ns) {
  char b[96];
  double a = static_cast<double>(op.invoke_ns - t0_ns) / 1e9;
  if (op.outcome == Outcome::kUnknown)
    std::snprintf(b, sizeof b, "+%.6fs..(never answered)", a);
  else
    std::snprintf(b, sizeof b, "+%.6fs..+%.6fs", a, static_cast<double>(op.complete_ns - t0_ns) / 1e9);
  std::string s = b;
  s += " w" + std::to_string(op.worker) + " #" + std::to_string(op.id) + " " + kind_name(op.kind);
  if (op.kind != OpKind::kRemove && op.kind != OpKind::kRead) s += " tag " + hex(op.tag);
  if (op.kind == OpKind::kAppend)
    s += op.append_pred == kAnyPred ? " (on: unseen)" : " (on data " + hex(op.append_pred) + ")";
  switch (op.outcome) {
    case Outcome::kOk: s += op.kind == OpKind::kRead ? " -> " + describe_state(op.observed) : " ok"; break;
    case Outcome::kFailed:
      s += op.kind == OpKind::kCreate   ? " failed: EEXIST"
           : op.kind == OpKind::kRemove ? " failed: ENOENT"
                                        : " failed";
      break;
    case Outcome::kUnknown: s += " outcome unknown"; break;
  }
  return s;
}

ObjectResult check_object(const std::vector<Op>& all, const CheckOptions& opts) {
  std::vector<Op> ops;
  std::vector<size_t> orig;  // ops[i] is all[orig[i]]
  for (size_t i = 0; i < all.size(); ++i)
    if (informative(all[i])) {
      ops.push_back(all[i]);
      orig.push_back(i);
    }
  ObjectResult r;
  Verdict v = search(ops, opts.max_steps, &r.steps);
  r.verdict = v;
  if (v != Verdict::kNotLinearizable) return r;

  // Find the shortest prefix (in events) that is not linearizable: linearizability
  // is prefix-closed, so a binary search finds it; its last event is a return.
  std::vector<Event> ev = make_events(ops);
  size_t lo = 0, hi = ev.size();  // prefix(lo) linearizable (or inconclusive), prefix(hi) not
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t steps = 0;
    if (search(prefix(ops, ev, mid), opts.max_steps, &steps) == Verdict::kNotLinearizable)
      hi = mid;
    else
      lo = mid;
  }
  const Event& last = ev[hi - 1];
  const Op& culprit = ops[last.op];
  r.culprit = orig[last.op];

  int64_t t0 = opts.t0_ns;
  if (t0 < 0) {
    t0 = std::numeric_limits<int64_t>::max();
    for (const Op& op : all) t0 = std::min(t0, op.invoke_ns);
  }
  // Context: every op (searched or not) invoked before the culprit completed, the
  // last `context_ops` of them by invocation, and the writers of the tags the
  // culprit names when they are older than that.
  const int64_t cut = culprit.complete_ns;
  std::vector<size_t> order;
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].invoke_ns <= cut) order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return all[a].invoke_ns < all[b].invoke_ns; });
  size_t from = order.size() > opts.context_ops ? order.size() - opts.context_ops : 0;
  std::vector<Tag> named{culprit.observed.tag, culprit.observed.data, culprit.observed.omap,
                         culprit.observed.xattr};
  if (culprit.kind == OpKind::kAppend && culprit.append_pred != kAnyPred)
    named.push_back(culprit.append_pred);
  std::string d = "  " + std::to_string(all.size()) + " ops (" + std::to_string(ops.size()) +
                  " informative); the shortest non-linearizable prefix ends when this op completes:\n    " +
                  describe_op(culprit, t0) + "\n";
  std::string older;
  for (size_t k = 0; k < from; ++k) {
    const Op& op = all[order[k]];
    if (op.tag != kNoTag && std::find(named.begin(), named.end(), op.tag) != named.end())
      older += "     " + describe_op(op, t0) + "\n";
  }
  if (!older.empty()) d += "  older ops that wrote tags it names:\n" + older;
  d += "  the last " + std::to_string(order.size() - from) +
       " ops invoked before it completed (\"~\": still running then; \"-\": failed, not searched):\n";
  for (size_t k = from; k < order.size(); ++k) {
    const Op& op = all[order[k]];
    const char* mark = order[k] == r.culprit                                     ? "  => "
                       : !informative(op)                                        ? "   - "
                       : op.outcome == Outcome::kUnknown || op.complete_ns > cut ? "   ~ "
                                                                                 : "     ";
    d += mark + describe_op(op, t0) + "\n";
  }
  r.description = std::move(d);
  return r;
}

HistoryResult check_history(const std::map<std::string, std::vector<Op>>& by_object,
                            const CheckOptions& opts) {
  HistoryResult h;
  for (const auto& [name, ops] : by_object) {
    ++h.objects;
    h.ops += ops.size();
    ObjectResult r = check_object(ops, opts);
    if (r.verdict == Verdict::kLinearizable) continue;
    (r.verdict == Verdict::kNotLinearizable ? h.failed : h.inconclusive).push_back(name);
    h.results[name] = std::move(r);
  }
  return h;
}

}  // namespace cairn::test::lin
