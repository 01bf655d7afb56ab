// Deciding when an OSD is down and when it is out.
//
// Evidence: failure reports from peer OSDs (which heartbeat each other) and
// beacons each OSD sends the monitors. An OSD is marked down when either
//  - at least `min_reporters` peers from at least `min_reporter_domains` distinct
//    failure domains (hosts by default) report it failed for `grace_ms`, or
//  - the monitors heard no beacon from it for `beacon_timeout_ms` (this catches a
//    whole host or the last OSD of a cluster, which no peer can report).
// An OSD down for `down_out_interval_ms` is marked out (data re-replicates), unless
// the noout flag is set. A report is dropped when its reporter withdraws it, when
// the target boots again, or when it is older than twice the grace.
//
// Pure: the OSD map service feeds events and asks tick() for decisions, which it
// proposes through Paxos like any other change.
// Thread-safety: owned by the monitor's Paxos thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace cairn::mon {

struct FailureConfig {
  uint32_t min_reporters = 2;
  uint32_t min_reporter_domains = 2;
  uint64_t grace_ms = 20'000;
  uint64_t beacon_timeout_ms = 30'000;
  uint64_t down_out_interval_ms = 60'000;
};

struct FailureDecisions {
  std::vector<int32_t> mark_down;
  std::vector<int32_t> mark_out;
  bool empty() const { return mark_down.empty() && mark_out.empty(); }
};

class OsdFailureDetector {
 public:
  explicit OsdFailureDetector(FailureConfig cfg) : cfg_(cfg) {}

  // `reporter_domain` is the reporter's failure domain (its host, or itself).
  void report_failure(int32_t target, int32_t reporter, const std::string& reporter_domain,
                      uint64_t failed_since_ms, uint64_t now_ms);
  void cancel_report(int32_t target, int32_t reporter);
  void beacon(int32_t osd, uint64_t now_ms);

  // The map changed: keep the detector in step.
  void marked_up(int32_t osd, uint64_t now_ms);
  void marked_down(int32_t osd, uint64_t now_ms);
  void marked_in(int32_t osd);
  void forget(int32_t osd);

  struct View {
    std::set<int32_t> up;  // OSDs the map has up
    std::set<int32_t> in;  // OSDs the map has in
    bool nodown = false;
    bool noout = false;
  };
  FailureDecisions tick(uint64_t now_ms, const View& view);

  size_t reports_against(int32_t target) const;

 private:
  struct Report {
    std::string domain;
    uint64_t failed_since_ms;
    uint64_t reported_ms;
  };
  FailureConfig cfg_;
  std::map<int32_t, std::map<int32_t, Report>> reports_;  // target -> reporter -> report
  std::map<int32_t, uint64_t> last_beacon_ms_;
  std::map<int32_t, uint64_t> down_since_ms_;
};

}  // namespace cairn::mon
