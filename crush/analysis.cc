#include "crush/analysis.h"

#include <algorithm>

namespace cairn::crush {

Result<Mappings> map_range(const Mapper& m, int32_t rule, uint32_t min_x, uint32_t max_x, uint32_t num_rep,
                           std::span<const Weight> reweights) {
  if (max_x < min_x) return Status(Errc::kInvalid, "max_x < min_x");
  uint64_t n = static_cast<uint64_t>(max_x) - min_x + 1;
  if (n > kMaxRangeInputs) return Status(Errc::kRange, "too many inputs");
  if (num_rep == 0 || num_rep > kMaxReplicas) return Status(Errc::kInvalid, "num_rep out of range");
  Mappings out;
  out.min_x = min_x;
  out.num_rep = num_rep;
  out.slots.assign(n * num_rep, kNoItem);
  std::vector<ItemId> row;
  for (uint64_t i = 0; i < n; ++i) {
    CAIRN_RETURN_IF_ERROR(m.map(rule, static_cast<uint32_t>(min_x + i), num_rep, reweights, row));
    std::copy(row.begin(), row.end(), out.slots.begin() + static_cast<ptrdiff_t>(i * num_rep));
  }
  return out;
}

Utilization utilization(const Mappings& m) {
  Utilization u;
  for (size_t i = 0; i < m.count(); ++i) {
    auto r = m.row(i);
    bool bad = false;
    for (size_t j = 0; j < r.size(); ++j) {
      if (r[j] == kNoItem) {
        bad = true;
        continue;
      }
      ++u.per_device[r[j]];
      ++u.replicas;
      for (size_t k = 0; k < j; ++k) bad = bad || r[k] == r[j];
    }
    if (bad) ++u.bad_mappings;
  }
  return u;
}

Result<MoveStats> diff(const Mappings& a, const Mappings& b, bool positional) {
  if (a.min_x != b.min_x || a.count() != b.count() || a.num_rep != b.num_rep)
    return Status(Errc::kInvalid, "mapping tables cover different inputs");
  MoveStats s;
  s.inputs = a.count();
  for (size_t i = 0; i < a.count(); ++i) {
    auto ra = a.row(i), rb = b.row(i);
    bool changed = false;
    for (size_t j = 0; j < rb.size(); ++j) {
      if (rb[j] == kNoItem) continue;
      ++s.replicas;
      bool held = positional ? ra[j] == rb[j] : std::find(ra.begin(), ra.end(), rb[j]) != ra.end();
      if (!held) {
        ++s.moved;
        ++s.gained[rb[j]];
      }
    }
    for (size_t j = 0; j < ra.size(); ++j) {
      if (ra[j] != rb[j]) changed = true;
      if (ra[j] == kNoItem) continue;
      bool kept = positional ? ra[j] == rb[j] : std::find(rb.begin(), rb.end(), ra[j]) != rb.end();
      if (!kept) ++s.lost[ra[j]];
    }
    if (changed) ++s.changed_inputs;
  }
  return s;
}

}  // namespace cairn::crush
