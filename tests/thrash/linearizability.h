// A linearizability checker for per-object histories (the thrash test's judge).
//
// Model. Each object is an independent register (P-compositionality: a history is
// linearizable iff each object's sub-history is), so histories are checked object
// by object. The register's value is the object's logical state:
//
//   tag    the tag of the last mutation applied (0: the object is absent)
//   data   the tag of the last data write (write_full or append; 0: no data)
//   omap   the tag of the last omap update (0: none)
//   xattr  the tag of the last xattr update (0: none)
//
// Every mutation carries a tag unique in the whole history, so a read that decodes
// the object names exactly which writes produced what it saw. An append also
// names, when some read saw it inside the object's data, the data tag it was
// appended to (`append_pred`): appending is a read-modify-write, and the checker
// only lets it take effect on that state. Semantics of the operations:
//
//   write_full(v)  {v, v, omap, xattr}                    (creates if absent)
//   append(v)      {v, v, omap, xattr}, needs data == pred (creates if absent)
//   set_xattr(v)   {v, data, omap, v}                      (creates if absent)
//   set_omap(v)    {v, data, v, xattr}                     (creates if absent)
//   create(v)      needs absent; {v, 0, 0, 0}
//   remove         needs present; absent
//   read           observes the whole state (absent: tag 0)
//
// Outcomes. kOk: applied exactly once between invoke and complete. kFailed: not
// applied; a failed create (EEXIST) still says the object existed at some point of
// the interval, a failed remove (ENOENT) that it was absent, and a failed read
// says nothing (callers may drop it). kUnknown (a timeout, a lost connection): a
// mutation may have taken effect once at any point after its invocation, or never;
// an unknown read says nothing.
//
// Algorithm: Wing & Gong's search over the history's call/return events with
// Lowe's memoization (a set of (linearized ops, state) already explored), as in
// Porcupine. An op of unknown outcome has no return event, so nothing ever has to
// wait for it, and the search succeeds once every op of known outcome is
// linearized. The search is bounded (`max_steps`); past it the verdict is
// kInconclusive rather than a guess.
//
// Thread-safety: the functions are pure; call them from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cairn::test::lin {

using Tag = uint64_t;
inline constexpr Tag kNoTag = 0;
inline constexpr Tag kAnyPred = ~0ull;  // an append nobody saw inside the data

struct ObjState {
  Tag tag = kNoTag;
  Tag data = kNoTag;
  Tag omap = kNoTag;
  Tag xattr = kNoTag;
  bool exists() const { return tag != kNoTag; }
  bool operator==(const ObjState&) const = default;
};

enum class OpKind { kWriteFull, kAppend, kSetXattr, kSetOmap, kCreate, kRemove, kRead };
enum class Outcome { kOk, kFailed, kUnknown };

struct Op {
  OpKind kind = OpKind::kRead;
  Outcome outcome = Outcome::kOk;
  Tag tag = kNoTag;            // mutations other than remove: the new tag (unique)
  Tag append_pred = kAnyPred;  // append: the data tag it was seen applied on
  ObjState observed;           // read (kOk): what it saw
  int64_t invoke_ns = 0;       // monotonic clock
  int64_t complete_ns = 0;     // ignored for kUnknown
  int worker = -1;             // who issued it (for descriptions)
  uint64_t id = 0;             // the caller's id of the op (for descriptions)
};

// Applies `op` (taken as having taken effect) to `s`: false when it cannot take
// effect in state `s` (a guard or an observation does not hold).
bool step(const Op& op, const ObjState& s, ObjState* out);

enum class Verdict { kLinearizable, kNotLinearizable, kInconclusive };

struct CheckOptions {
  uint64_t max_steps = 20'000'000;  // search steps per object before giving up
  size_t context_ops = 24;          // ops printed before the culprit
  int64_t t0_ns = -1;               // times in descriptions are relative to this (-1: first invoke)
};

struct ObjectResult {
  Verdict verdict = Verdict::kLinearizable;
  uint64_t steps = 0;
  // kNotLinearizable: the op whose completion first makes a prefix of the
  // history non-linearizable (index into the ops given), and a readable
  // description of that minimal prefix.
  size_t culprit = 0;
  std::string description;
};

// Checks one object's history (ops in any order; the initial state is absent).
ObjectResult check_object(const std::vector<Op>& ops, const CheckOptions& opts = {});

// One line per op: "+12.345678s..+12.400000s w3 #17 append tag=0x1f ok".
std::string describe_op(const Op& op, int64_t t0_ns);
std::string describe_state(const ObjState& s);
// "write_full", "append", ... and a tag in hex (for reports).
const char* kind_name(OpKind k);
std::string hex(Tag t);

struct HistoryResult {
  size_t objects = 0, ops = 0;
  std::vector<std::string> failed;              // objects not linearizable
  std::vector<std::string> inconclusive;        // objects whose search hit max_steps
  std::map<std::string, ObjectResult> results;  // only the failed/inconclusive ones
  bool ok() const { return failed.empty() && inconclusive.empty(); }
};

// Checks every object's history.
HistoryResult check_history(const std::map<std::string, std::vector<Op>>& by_object,
                            const CheckOptions& opts = {});

}  // namespace cairn::test::lin
