// Mapper: a CRUSH map compiled for fast, allocation-free mapping.
//
//   auto m = Mapper::build(map);              // validates and flattens the rules
//   m->map(rule, x, 3, reweights, out);       // out = up to 3 distinct devices
//
// Mapping is a pure function of (map, rule, x, num_rep, reweights): integer math
// only, no I/O, no global state, so every client and daemon computes the same
// placement. `reweights[id]` is device id's in-weight in 16.16 (0 = out, 0x10000
// = fully in; ids past the end count as fully in); a device that is out or
// weighted 0 is never chosen, and marking one out moves only the data it held.
//
// Thread-safety: immutable after build(); map() may run concurrently from any
// number of threads. Copies share the compiled form.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "crush/crush_map.h"

namespace cairn::crush {

namespace internal {
struct Compiled;
}

class Mapper {
 public:
  static Result<Mapper> build(const CrushMap& map);

  // Runs rule `rule_id` on input x; `out` receives at most num_rep items. firstn
  // steps give a dense list; indep steps keep positions and use kNoItem holes.
  // Fails only with kNotFound for an unknown rule.
  Status map(int32_t rule_id, uint32_t x, uint32_t num_rep, std::span<const Weight> reweights,
             std::vector<ItemId>& out) const;
  Result<std::vector<ItemId>> map(int32_t rule_id, uint32_t x, uint32_t num_rep,
                                  std::span<const Weight> reweights = {}) const;

  const CrushMap& crush_map() const;

 private:
  explicit Mapper(std::shared_ptr<const internal::Compiled> c) : c_(std::move(c)) {}
  std::shared_ptr<const internal::Compiled> c_;
};

}  // namespace cairn::crush
