// The two selection kernels of a choose step over one working item's domains.
#pragma once

#include <cstdint>
#include <span>

#include "crush/internal/compiled.h"
#include "crush/internal/draw.h"

namespace cairn::crush::internal {

// The best draw among a domain's usable leaves (crush weight scaled by the
// device's in-weight, 0 = out): its clock is the domain's clock.
Draw domain_draw(const DomainSet& ds, const Domain& dom, uint32_t x, uint64_t salt,
                 std::span<const Weight> reweights);

// firstn: the n domains with the best clocks, best first. Equivalent to drawing
// replica r among the domains not chosen for replicas < r, with one clock per
// domain: adding a device changes a result only where the device's own clock
// wins (docs/crush.md, "no cascade"). Writes up to n items; returns how many.
uint32_t choose_firstn(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves,
                       std::span<const Weight> reweights, ItemId* out);

// indep: exactly n positions, kNoItem where nothing is left. Position r's domain
// is chosen from crush weights alone (ignoring in-weights) with its own salt,
// excluding domains taken by positions < r; then the position takes its domain's
// best usable device. Only when a domain has no usable device left does the
// position move, to the best usable domain that no position uses; so marking a
// device out never moves another position.
void choose_indep(const DomainSet& ds, uint32_t x, uint32_t n, bool leaves, std::span<const Weight> reweights,
                  ItemId* out);

}  // namespace cairn::crush::internal
