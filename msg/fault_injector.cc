#include "msg/fault_injector.h"

namespace cairn::msg {

void FaultInjector::set(const EntityName& peer, FaultSpec spec) {
  std::unique_lock lk(mu_);
  if (spec.none()) {
    faults_.erase(peer);
  } else {
    faults_[peer] = spec;
  }
  any_.store(!faults_.empty(), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  lk.unlock();
  notify();
}

void FaultInjector::clear(const EntityName& peer) { set(peer, FaultSpec{}); }

void FaultInjector::clear_all() {
  std::unique_lock lk(mu_);
  faults_.clear();
  any_.store(false, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  lk.unlock();
  notify();
}

void FaultInjector::set_listener(std::function<void()> fn) {
  std::lock_guard lk(mu_);
  listener_ = std::move(fn);
}

void FaultInjector::notify() {
  std::function<void()> fn;
  {
    std::lock_guard lk(mu_);
    fn = listener_;
  }
  if (fn) fn();
}

FaultSpec FaultInjector::get(const EntityName& peer) const {
  if (!any_.load(std::memory_order_relaxed)) return {};
  std::lock_guard lk(mu_);
  auto it = faults_.find(peer);
  return it == faults_.end() ? FaultSpec{} : it->second;
}

bool FaultInjector::should_drop(const EntityName& peer) {
  if (!any_.load(std::memory_order_relaxed)) return false;
  std::lock_guard lk(mu_);
  auto it = faults_.find(peer);
  if (it == faults_.end() || it->second.drop_probability <= 0.0) return false;
  return rng_.chance(it->second.drop_probability);
}

}  // namespace cairn::msg
