#include "mon/osd_failure.h"

namespace cairn::mon {

void OsdFailureDetector::report_failure(int32_t target, int32_t reporter, const std::string& reporter_domain,
                                        uint64_t failed_since_ms, uint64_t now_ms) {
  if (target == reporter) return;
  if (failed_since_ms > now_ms) failed_since_ms = now_ms;  // a reporter's clock may run ahead
  reports_[target][reporter] = Report{reporter_domain, failed_since_ms, now_ms};
}

void OsdFailureDetector::cancel_report(int32_t target, int32_t reporter) {
  auto it = reports_.find(target);
  if (it == reports_.end()) return;
  it->second.erase(reporter);
  if (it->second.empty()) reports_.erase(it);
}

void OsdFailureDetector::beacon(int32_t osd, uint64_t now_ms) { last_beacon_ms_[osd] = now_ms; }

void OsdFailureDetector::marked_up(int32_t osd, uint64_t now_ms) {
  reports_.erase(osd);
  down_since_ms_.erase(osd);
  last_beacon_ms_[osd] = now_ms;
}

void OsdFailureDetector::marked_down(int32_t osd, uint64_t now_ms) {
  reports_.erase(osd);
  if (!down_since_ms_.count(osd)) down_since_ms_[osd] = now_ms;
}

void OsdFailureDetector::marked_in(int32_t osd) {
  // Re-marked in while down: restart the down-out clock from now on the next tick.
  down_since_ms_.erase(osd);
}

void OsdFailureDetector::forget(int32_t osd) {
  reports_.erase(osd);
  last_beacon_ms_.erase(osd);
  down_since_ms_.erase(osd);
  for (auto it = reports_.begin(); it != reports_.end();) {
    it->second.erase(osd);
    it = it->second.empty() ? reports_.erase(it) : std::next(it);
  }
}

size_t OsdFailureDetector::reports_against(int32_t target) const {
  auto it = reports_.find(target);
  return it == reports_.end() ? 0 : it->second.size();
}

FailureDecisions OsdFailureDetector::tick(uint64_t now_ms, const View& view) {
  FailureDecisions d;
  for (int32_t osd : view.up) {
    if (view.nodown) break;
    bool down = false;
    auto it = reports_.find(osd);
    if (it != reports_.end()) {
      std::set<std::string> domains;
      uint32_t reporters = 0;
      for (auto r = it->second.begin(); r != it->second.end();) {
        if (now_ms > r->second.reported_ms + 2 * cfg_.grace_ms) {  // stale: the reporter stopped saying so
          r = it->second.erase(r);
          continue;
        }
        if (view.up.count(r->first) && now_ms >= r->second.failed_since_ms + cfg_.grace_ms) {
          ++reporters;
          domains.insert(r->second.domain);
        }
        ++r;
      }
      down = reporters >= cfg_.min_reporters && domains.size() >= cfg_.min_reporter_domains;
    }
    auto b = last_beacon_ms_.find(osd);
    if (b == last_beacon_ms_.end()) {
      last_beacon_ms_[osd] = now_ms;  // first sight (e.g. a new leader): start the clock
    } else if (now_ms > b->second + cfg_.beacon_timeout_ms) {
      down = true;
    }
    if (down) d.mark_down.push_back(osd);
  }
  for (int32_t osd : view.in) {
    if (view.noout || view.up.count(osd)) continue;
    auto it = down_since_ms_.find(osd);
    if (it == down_since_ms_.end()) {
      down_since_ms_[osd] = now_ms;  // down when we first looked: the clock starts now
    } else if (now_ms >= it->second + cfg_.down_out_interval_ms) {
      d.mark_out.push_back(osd);
    }
  }
  return d;
}

}  // namespace cairn::mon
