// compile(): parses the text form (grammar in crush/text.h) and validates it.
#include <charconv>

#include "crush/internal/lexer.h"
#include "crush/internal/names.h"
#include "crush/text.h"

namespace cairn::crush {
namespace {

using internal::TextLine;

template <typename T>
bool parse_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

struct PendingBucket {
  int line;
  Bucket bucket;
  std::vector<std::pair<int, std::string_view>> items;  // line, name
};

struct PendingTake {
  int32_t rule;
  size_t step;
  int line;
  std::string_view name;
};

class Parser {
 public:
  explicit Parser(std::vector<TextLine> lines) : lines_(std::move(lines)) { map_.types.clear(); }

  Result<CrushMap> run() {
    while (at_ < lines_.size()) CAIRN_RETURN_IF_ERROR(statement());
    CAIRN_RETURN_IF_ERROR(resolve());
    Status st = map_.validate();
    if (!st.ok()) return st;
    return std::move(map_);
  }

 private:
  Status fail(int line, std::string why) {
    return error(Errc::kInvalid, "crush text line " + std::to_string(line) + ": " + why);
  }
  Status fail(const TextLine& l, std::string why) { return fail(l.number, std::move(why)); }

  Status statement() {
    const TextLine& l = lines_[at_++];
    std::string_view kw = l.tokens[0];
    if (kw == "tunable") return tunable(l);
    if (kw == "type") return type(l);
    if (kw == "device") return device(l);
    if (kw == "rule") return rule(l);
    if (l.tokens.size() == 3 && l.tokens[2] == "{") return bucket(l);
    return fail(l, "unknown statement '" + std::string(kw) + "'");
  }

  Status tunable(const TextLine& l) {
    if (l.tokens.size() != 3 || l.tokens[1] != "choose_total_tries")
      return fail(l, "expected 'tunable choose_total_tries <n>'");
    if (!parse_int(l.tokens[2], map_.tunables.choose_total_tries)) return fail(l, "bad number");
    return ok_status();
  }

  Status type(const TextLine& l) {
    uint32_t id = 0;
    if (l.tokens.size() != 3 || !parse_int(l.tokens[1], id)) return fail(l, "expected 'type <id> <name>'");
    if (!map_.types.emplace(id, std::string(l.tokens[2])).second) return fail(l, "duplicate type id");
    return ok_status();
  }

  Status device(const TextLine& l) {
    const auto& t = l.tokens;
    Device d;
    if ((t.size() != 5 && t.size() != 7) || !parse_int(t[1], d.id) || t[3] != "weight")
      return fail(l, "expected 'device <id> <name> weight <w> [class <c>]'");
    if (!parse_weight(t[4], d.weight)) return fail(l, "bad weight '" + std::string(t[4]) + "'");
    if (t.size() == 7) {
      if (t[5] != "class") return fail(l, "expected 'class <c>'");
      d.device_class = std::string(t[6]);
    }
    d.name = std::string(t[2]);
    if (d.id < 0) return fail(l, "device ids are >= 0");
    if (!map_.devices.emplace(d.id, d).second) return fail(l, "duplicate device id");
    return ok_status();
  }

  Status bucket(const TextLine& head) {
    auto type = map_.find_type(head.tokens[0]);
    if (!type) return fail(head, "unknown bucket type '" + std::string(head.tokens[0]) + "'");
    PendingBucket pb{head.number, Bucket{0, std::string(head.tokens[1]), *type, {}}, {}};
    bool have_id = false;
    for (;;) {
      if (at_ >= lines_.size()) return fail(head, "bucket not closed");
      const TextLine& l = lines_[at_++];
      const auto& t = l.tokens;
      if (t.size() == 1 && t[0] == "}") break;
      if (t.size() == 2 && t[0] == "id") {
        if (!parse_int(t[1], pb.bucket.id) || pb.bucket.id >= 0) return fail(l, "bucket ids are < 0");
        have_id = true;
      } else if (t.size() == 2 && t[0] == "alg") {
        if (t[1] != "straw2") return fail(l, "only straw2 buckets exist");
      } else if (t.size() == 2 && t[0] == "item") {
        pb.items.emplace_back(l.number, t[1]);
      } else {
        return fail(l, "expected 'id', 'alg' or 'item' in bucket");
      }
    }
    if (!have_id) return fail(head, "bucket without id");
    if (map_.buckets.contains(pb.bucket.id)) return fail(head, "duplicate bucket id");
    map_.buckets.emplace(pb.bucket.id, pb.bucket);
    pending_.push_back(std::move(pb));
    return ok_status();
  }

  Status rule(const TextLine& head) {
    if (head.tokens.size() != 3 || head.tokens[2] != "{") return fail(head, "expected 'rule <name> {'");
    Rule r;
    r.name = std::string(head.tokens[1]);
    r.id = -1;
    std::vector<PendingTake> takes;
    for (;;) {
      if (at_ >= lines_.size()) return fail(head, "rule not closed");
      const TextLine& l = lines_[at_++];
      const auto& t = l.tokens;
      if (t.size() == 1 && t[0] == "}") break;
      if (t.size() == 2 && t[0] == "id") {
        if (!parse_int(t[1], r.id) || r.id < 0) return fail(l, "bad rule id");
      } else if (t.size() == 2 && t[0] == "type") {
        if (t[1] == "replicated")
          r.type = RuleType::kReplicated;
        else if (t[1] == "erasure")
          r.type = RuleType::kErasure;
        else
          return fail(l, "rule type is replicated or erasure");
      } else if (t.size() == 2 && (t[0] == "min_size" || t[0] == "max_size")) {
        // Ceph's legacy size bounds: accepted and ignored.
      } else if (!t.empty() && t[0] == "step") {
        if (r.steps.size() >= kMaxSteps) return fail(l, "too many steps");
        CAIRN_RETURN_IF_ERROR(step(l, r, takes));
      } else {
        return fail(l, "expected 'id', 'type' or 'step' in rule");
      }
    }
    if (r.id < 0) return fail(head, "rule without id");
    if (map_.rules.contains(r.id)) return fail(head, "duplicate rule id");
    for (PendingTake& p : takes) p.rule = r.id;
    takes_.insert(takes_.end(), takes.begin(), takes.end());
    map_.rules.emplace(r.id, std::move(r));
    return ok_status();
  }

  Status step(const TextLine& l, Rule& r, std::vector<PendingTake>& takes) {
    const auto& t = l.tokens;
    Step s;
    if (t.size() == 2 && t[1] == "emit") {
      s.op = StepOp::kEmit;
    } else if ((t.size() == 3 || t.size() == 5) && t[1] == "take") {
      s.op = StepOp::kTake;
      if (t.size() == 5) {
        if (t[3] != "class") return fail(l, "expected 'class <c>'");
        s.device_class = std::string(t[4]);
      }
      takes.push_back(PendingTake{0, r.steps.size(), l.number, t[2]});
    } else if (t.size() == 6 && (t[1] == "choose" || t[1] == "chooseleaf") && t[4] == "type") {
      s.op = t[1] == "choose" ? StepOp::kChoose : StepOp::kChooseLeaf;
      if (t[2] == "firstn")
        s.mode = ChooseMode::kFirstn;
      else if (t[2] == "indep")
        s.mode = ChooseMode::kIndep;
      else
        return fail(l, "expected firstn or indep");
      if (!parse_int(t[3], s.count)) return fail(l, "bad count");
      auto type = map_.find_type(t[5]);
      if (!type) return fail(l, "unknown type '" + std::string(t[5]) + "'");
      s.type = *type;
    } else {
      return fail(l, "bad step");
    }
    r.steps.push_back(std::move(s));
    return ok_status();
  }

  // Names may be used before they are declared: resolve them once all are known.
  Status resolve() {
    for (const PendingBucket& pb : pending_) {
      Bucket& b = map_.buckets[pb.bucket.id];
      for (const auto& [line, name] : pb.items) {
        auto id = map_.find_item(name);
        if (!id) return fail(line, "unknown item '" + std::string(name) + "'");
        b.items.push_back(*id);
      }
    }
    for (const PendingTake& p : takes_) {
      auto id = map_.find_item(p.name);
      if (!id) return fail(p.line, "unknown item '" + std::string(p.name) + "'");
      map_.rules[p.rule].steps[p.step].item = *id;
    }
    return ok_status();
  }

  std::vector<TextLine> lines_;
  size_t at_ = 0;
  CrushMap map_;
  std::vector<PendingBucket> pending_;
  std::vector<PendingTake> takes_;
};

}  // namespace

bool parse_weight(std::string_view s, Weight& out) {
  size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (ip.empty() || ip.size() > 5 || fp.size() > 9 || (dot != std::string_view::npos && fp.empty()))
    return false;
  uint64_t i = 0, f = 0, scale = 1;
  if (!parse_int(ip, i) || i > 0xffff) return false;
  for (char c : fp) {
    if (c < '0' || c > '9') return false;
    f = f * 10 + static_cast<uint64_t>(c - '0');
    scale *= 10;
  }
  uint64_t w = (i << 16) + (f * 65536 + scale / 2) / scale;
  if (w > 0xffffffffull) return false;
  out = static_cast<Weight>(w);
  return true;
}

Result<CrushMap> compile(std::string_view text) {
  if (text.size() > kMaxTextSize) return Status(Errc::kRange, "crush text too large");
  return Parser(internal::lex(text)).run();
}

}  // namespace cairn::crush
