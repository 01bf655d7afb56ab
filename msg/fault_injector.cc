#include "msg/fault_injector.h"

#include <cstdlib>

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

Result<std::string> FaultInjector::admin_command(const std::vector<std::string>& a) {
  if (a.size() < 2) return Status(Errc::kInvalid, "usage: fault cut|clear|drop P|delay MS <entity>");
  CAIRN_ASSIGN_OR_RETURN(auto peer, EntityName::parse(a.back()));
  if (a[0] == "cut" && a.size() == 2) {
    cut(peer);
  } else if (a[0] == "clear" && a.size() == 2) {
    clear(peer);
  } else if (a[0] == "drop" && a.size() == 3) {
    char* end = nullptr;
    double p = std::strtod(a[1].c_str(), &end);
    if (!end || *end || p < 0 || p > 1) return Status(Errc::kInvalid, "drop probability must be in [0, 1]");
    drop(peer, p);
  } else if (a[0] == "delay" && a.size() == 3) {
    char* end = nullptr;
    unsigned long ms = std::strtoul(a[1].c_str(), &end, 10);
    if (!end || *end || ms > 600000) return Status(Errc::kInvalid, "delay must be 0..600000 ms");
    delay(peer, std::chrono::milliseconds(ms));
  } else {
    return Status(Errc::kInvalid, "usage: fault cut|clear|drop P|delay MS <entity>");
  }
  return std::string("{}");
}

}  // namespace cairn::msg
