// The OSD map service: epochs, the pending incremental, refresh, and OSD events.
// Commands are in osdmap_commands.cc, printing in osdmap_print.cc.
#include "mon/osdmap_service.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/log.h"
#include "crush/builder.h"

namespace cairn::mon {

using crush::Epoch;
using crush::OsdMap;
using crush::OsdMapIncremental;

namespace {

std::string epoch_key(const char* kind, Epoch e) {
  char b[48];
  std::snprintf(b, sizeof b, "osdmap/%s/%010" PRIu32, kind, e);
  return b;
}

Epoch read_epoch(const PaxosStore& store, const char* key) {
  auto v = store.get(key);
  if (!v) return 0;
  auto r = decode_from<uint32_t>(*v);
  return r.ok() ? *r : 0;
}

// A root "default" with no hosts yet (OSDs add their host when they first boot)
// and the four standard rules: replicated or erasure, over hosts or over OSDs.
Result<crush::CrushMap> initial_crush_map() {
  crush::CrushMap c;
  c.types = crush::CrushMap::default_types();
  auto root = c.find_type("root");
  auto host = c.find_type("host");
  if (!root || !host) return Status(Errc::kInternal, "default crush types lack root or host");
  const crush::ItemId root_id = -1;
  CAIRN_RETURN_IF_ERROR(c.add_bucket(root_id, "default", *root, std::nullopt));
  struct Spec {
    int32_t id;
    const char* name;
    crush::RuleType type;
    crush::ChooseMode mode;
    uint32_t domain;
  };
  const Spec specs[] = {
      {0, "replicated_host", crush::RuleType::kReplicated, crush::ChooseMode::kFirstn, *host},
      {1, "replicated_osd", crush::RuleType::kReplicated, crush::ChooseMode::kFirstn, crush::kDeviceType},
      {2, "erasure_host", crush::RuleType::kErasure, crush::ChooseMode::kIndep, *host},
      {3, "erasure_osd", crush::RuleType::kErasure, crush::ChooseMode::kIndep, crush::kDeviceType},
  };
  for (const Spec& sp : specs) {
    crush::Rule r;
    r.id = sp.id;
    r.name = sp.name;
    r.type = sp.type;
    crush::Step take;
    take.op = crush::StepOp::kTake;
    take.item = root_id;
    crush::Step choose;
    choose.op = sp.domain == crush::kDeviceType ? crush::StepOp::kChoose : crush::StepOp::kChooseLeaf;
    choose.mode = sp.mode;
    choose.count = 0;
    choose.type = sp.domain;
    crush::Step emit;
    emit.op = crush::StepOp::kEmit;
    r.steps = {take, choose, emit};
    c.rules[sp.id] = r;
  }
  CAIRN_RETURN_IF_ERROR(c.validate());
  return c;
}

}  // namespace

OsdMapService::OsdMapService(OsdMapServiceConfig cfg, Clock clock)
    : cfg_(std::move(cfg)), clock_(std::move(clock)), failures_(cfg_.failure) {}

void OsdMapService::refresh(const PaxosStore& store) {
  Epoch last = read_epoch(store, "osdmap/last");
  first_ = read_epoch(store, "osdmap/first");
  if (last <= map_.epoch) return;
  auto next = full_map(store, last);
  if (!next.ok()) {
    CAIRN_LOG(kError, kMon) << "osdmap: cannot load committed epoch" << log::kv("epoch", last)
                            << log::kv("error", next.status().to_string());
    return;
  }
  uint64_t now = clock_();
  for (const auto& [id, info] : next->osds) {
    const crush::OsdInfo* old = map_.osd(id);
    if (info.up && (!old || !old->up || old->instance != info.instance)) failures_.marked_up(id, now);
    if (!info.up && old && old->up) failures_.marked_down(id, now);
    if (info.in_weight > 0 && (!old || old->in_weight == 0)) failures_.marked_in(id);
  }
  for (const auto& [id, info] : map_.osds)
    if (!next->exists(id)) failures_.forget(id);
  map_ = std::move(*next);
}

Result<OsdMap> OsdMapService::full_map(const PaxosStore& store, Epoch e) const {
  auto v = store.get(epoch_key("full", e));
  if (!v) return Status(Errc::kNotFound, "osdmap epoch " + std::to_string(e) + " not stored");
  return decode_from<OsdMap>(*v);
}

Result<OsdMapIncremental> OsdMapService::incremental(const PaxosStore& store, Epoch e) const {
  auto v = store.get(epoch_key("inc", e));
  if (!v) return Status(Errc::kNotFound, "osdmap incremental " + std::to_string(e) + " not stored");
  return decode_from<OsdMapIncremental>(*v);
}

const OsdMap& OsdMapService::projected() {
  if (pending_map_) return *pending_map_;
  return pending_base();
}

Status OsdMapService::change(const std::function<Status(const OsdMap&, OsdMapIncremental&)>& edit,
                             Done done) {
  if (!propose_) return error(Errc::kAgain, "osdmap service not bound to a monitor");
  OsdMapIncremental inc = pending_ ? *pending_ : OsdMapIncremental{};
  if (!pending_) inc.epoch = pending_base().epoch + 1;
  CAIRN_RETURN_IF_ERROR(edit(projected(), inc));
  OsdMap next = pending_base();
  CAIRN_RETURN_IF_ERROR(next.apply(inc));  // validates the whole pending epoch
  pending_ = std::move(inc);
  pending_map_ = std::move(next);
  if (done) pending_dones_.push_back(std::move(done));
  propose_pending();
  return {};
}

void OsdMapService::propose_pending() {
  if (!pending_ || inflight_map_) return;
  Epoch e = pending_->epoch;
  KvTxn t;
  t.put(epoch_key("inc", e), encode_to_buffer(*pending_).to_string());
  t.put(epoch_key("full", e), encode_to_buffer(*pending_map_).to_string());
  t.put("osdmap/last", encode_to_buffer(e).to_string());
  Epoch first = first_ == 0 ? 1 : first_;
  // Maps a PG's peering may still walk (since its last clean activation) stay.
  Epoch floor = pg_stats_.trim_floor(map_);
  if (e > first + 2 * cfg_.epochs_kept && floor > first) {
    Epoch keep = std::min(e - cfg_.epochs_kept, floor);
    for (Epoch old = first; old < keep; ++old) {
      t.erase(epoch_key("inc", old));
      t.erase(epoch_key("full", old));
    }
    first = keep;
  }
  t.put("osdmap/first", encode_to_buffer(first).to_string());
  inflight_map_ = std::move(pending_map_);
  inflight_dones_ = std::move(pending_dones_);
  pending_.reset();
  pending_map_.reset();
  pending_dones_.clear();
  Status st = propose_(std::move(t), [this](Status s) { on_proposal_done(std::move(s)); });
  if (!st.ok()) on_proposal_done(st);
}

void OsdMapService::on_proposal_done(Status st) {
  std::vector<Done> dones = std::move(inflight_dones_);
  inflight_dones_.clear();
  inflight_map_.reset();
  if (!st.ok()) {
    // The pending epoch was built on the lost one: it is void too.
    for (auto& d : pending_dones_) dones.push_back(std::move(d));
    pending_dones_.clear();
    pending_.reset();
    pending_map_.reset();
  }
  for (auto& d : dones)
    if (d) d(st);
  propose_pending();
}

void OsdMapService::create_initial_map() {
  initial_requested_ = true;
  Status st = change(
      [this](const OsdMap&, OsdMapIncremental& inc) -> Status {
        CAIRN_ASSIGN_OR_RETURN(inc.new_crush, initial_crush_map());
        inc.new_fsid = cfg_.fsid;
        return {};
      },
      [this](Status s) {
        if (!s.ok()) initial_requested_ = false;  // try again under the next leader
      });
  if (!st.ok())
    CAIRN_LOG(kError, kMon) << "osdmap: cannot create the first epoch" << log::kv("error", st.to_string());
}

std::string OsdMapService::reporter_domain(int32_t osd) const {
  if (cfg_.reporter_domain_type == "osd") return "osd." + std::to_string(osd);
  auto type = map_.crush.find_type(cfg_.reporter_domain_type);
  if (!type) return "osd." + std::to_string(osd);
  auto anc = map_.crush.ancestor_of_type(osd, *type);
  return anc ? map_.crush.item_name(*anc) : "osd." + std::to_string(osd);
}

void OsdMapService::tick(uint64_t now_ms, std::vector<KvTxn>& /*out*/) {
  if (map_.epoch == 0) {
    if (!initial_requested_) create_initial_map();
    return;
  }
  bool full = pg_stats_.any_full(map_);
  if (!full_change_pending_ && full != map_.test_flag(crush::kFlagFull) && (full || auto_full_)) {
    full_change_pending_ = true;
    Status st = change(
        [full](const OsdMap& m, OsdMapIncremental& inc) -> Status {
          uint32_t flags = inc.new_flags ? *inc.new_flags : m.flags;
          inc.new_flags =
              full ? (flags | crush::kFlagFull) : (flags & ~static_cast<uint32_t>(crush::kFlagFull));
          CAIRN_LOG(kWarn, kMon) << (full ? "osdmap: an OSD is full: writes stop"
                                          : "osdmap: no OSD is full any more");
          return {};
        },
        [this, full](Status s) {
          full_change_pending_ = false;
          if (s.ok()) auto_full_ = full;
        });
    if (!st.ok()) full_change_pending_ = false;
  }
  // Per-OSD nearfull / backfillfull / full bits follow the reported usage (one change at a time).
  if (!fullness_change_pending_) {
    std::map<int32_t, uint8_t> changed;
    for (const auto& [id, bits] : pg_stats_.fullness(map_))
      if (const crush::OsdInfo* oi = map_.osd(id); oi && oi->fullness != bits) changed[id] = bits;
    if (!changed.empty()) {
      fullness_change_pending_ = true;
      Status st = change(
          [changed](const OsdMap& m, OsdMapIncremental& inc) -> Status {
            for (const auto& [id, bits] : changed) {
              if (!m.exists(id)) continue;
              crush::OsdInfo info = inc.new_osds.count(id) ? inc.new_osds[id] : *m.osd(id);
              if (bits & ~info.fullness)
                CAIRN_LOG(kWarn, kMon) << "osdmap: osd usage crossed a ratio" << log::kv("osd", id)
                                       << log::kv("now", crush::osd_fullness_name(bits));
              info.fullness = bits;
              inc.new_osds[id] = info;
            }
            return {};
          },
          [this](Status) { fullness_change_pending_ = false; });
      if (!st.ok()) fullness_change_pending_ = false;
    }
  }
  OsdFailureDetector::View view;
  for (const auto& [id, info] : map_.osds) {
    if (info.up) view.up.insert(id);
    if (info.in_weight > 0) view.in.insert(id);
  }
  view.nodown = map_.test_flag(crush::kFlagNoDown);
  view.noout = map_.test_flag(crush::kFlagNoOut);
  FailureDecisions d = failures_.tick(now_ms, view);
  if (d.empty()) return;
  // The decisions are about the instances in the committed map. A boot waiting to
  // commit (the edit below sees it) is a new instance the evidence says nothing
  // about: marking it down would tell it its boot succeeded into a map that has it down.
  std::map<int32_t, uint64_t> judged;
  for (int32_t id : d.mark_down) judged[id] = map_.osd(id) ? map_.osd(id)->instance : 0;
  Status st = change(
      [&d, &judged](const OsdMap& m, OsdMapIncremental& inc) -> Status {
        for (int32_t id : d.mark_down) {
          if (!m.is_up(id) || m.osd(id)->instance != judged[id]) continue;
          crush::OsdInfo info = *m.osd(id);
          info.up = false;
          info.down_at = inc.epoch;
          inc.new_osds[id] = info;
          CAIRN_LOG(kInfo, kMon) << "osdmap: marking osd down" << log::kv("osd", id);
        }
        for (int32_t id : d.mark_out) {
          const crush::OsdInfo* cur = inc.new_osds.count(id) ? &inc.new_osds[id] : m.osd(id);
          if (!cur || cur->in_weight == 0 || cur->up) continue;  // up again meanwhile: stays in
          crush::OsdInfo info = *cur;
          info.in_weight = 0;
          inc.new_osds[id] = info;
          CAIRN_LOG(kInfo, kMon) << "osdmap: marking osd out" << log::kv("osd", id);
        }
        return {};
      },
      nullptr);
  if (!st.ok())
    CAIRN_LOG(kWarn, kMon) << "osdmap: failure decision not applied" << log::kv("error", st.to_string());
}

Status OsdMapService::osd_boot(int32_t osd, const std::string& addr, uint64_t instance,
                               const std::string& host, crush::Weight weight, Done done) {
  if (map_.epoch == 0) return error(Errc::kAgain, "no osdmap yet");
  if (!projected().exists(osd))
    return error(Errc::kNotFound, "osd." + std::to_string(osd) + " does not exist");
  if (projected().test_flag(crush::kFlagNoUp)) return error(Errc::kBusy, "noup flag is set");
  if (addr.empty() || addr.size() > 256 || host.empty() || host.size() > crush::kMaxNameLength)
    return error(Errc::kInvalid, "bad boot address or host");
  return change(
      [&](const OsdMap& m, OsdMapIncremental& inc) -> Status {
        crush::OsdInfo info = *m.osd(osd);
        bool first_boot = info.up_from == 0;
        info.up = true;
        info.addr = addr;
        info.instance = instance;
        info.up_from = inc.epoch;
        if (first_boot && info.in_weight == 0) info.in_weight = crush::kWeightOne;  // new OSDs come in
        inc.new_osds[osd] = info;
        if (!m.crush.device(osd)) {
          crush::CrushMap c = inc.new_crush ? *inc.new_crush : m.crush;
          if (!c.find_item(host)) {
            auto root = c.find_item("default");
            auto host_type = c.find_type("host");
            if (!root || !host_type)
              return error(Errc::kInvalid, "crush map has no default root or host type");
            CAIRN_RETURN_IF_ERROR(c.add_bucket(c.next_bucket_id(), host, *host_type, *root));
          }
          CAIRN_RETURN_IF_ERROR(crush::add_osd(c, osd, host, weight));
          inc.new_crush = std::move(c);
        }
        return {};
      },
      std::move(done));
}

void OsdMapService::osd_failure(int32_t target, int32_t reporter, uint64_t failed_since_ms,
                                bool still_alive) {
  if (!map_.exists(target) || !map_.exists(reporter)) return;
  if (still_alive) {
    failures_.cancel_report(target, reporter);
    return;
  }
  uint64_t now = clock_();
  failures_.report_failure(target, reporter, reporter_domain(reporter), failed_since_ms, now);
}

void OsdMapService::osd_stats(const msg::OsdStatsMsg& m) {
  if (map_.exists(m.osd)) failures_.beacon(m.osd, clock_());  // a report is also a sign of life
  pg_stats_.report(m, map_, clock_());
}

void OsdMapService::osd_beacon(int32_t osd) {
  if (map_.exists(osd)) failures_.beacon(osd, clock_());
}

Status OsdMapService::osd_want_up_thru(int32_t osd, Epoch epoch, Done done) {
  const crush::OsdInfo* info = projected().osd(osd);
  if (!info || !info->up) return error(Errc::kNotFound, "osd." + std::to_string(osd) + " is not up");
  if (info->up_thru >= epoch) {
    if (done) done(Status());
    return {};
  }
  return change(
      [osd](const OsdMap& m, OsdMapIncremental& inc) -> Status {
        crush::OsdInfo i = *m.osd(osd);
        i.up_thru = inc.epoch;
        inc.new_osds[osd] = i;
        return {};
      },
      std::move(done));
}

Status OsdMapService::set_pg_temp(const crush::PgId& pg, std::vector<crush::ItemId> acting, Done done) {
  const crush::PoolInfo* p = projected().pool(pg.pool);
  if (!p || pg.seed >= p->placement.pg_num) return error(Errc::kNotFound, "no such pg");
  if (acting.size() > 32) return error(Errc::kInvalid, "pg_temp too long");
  for (size_t i = 0; i < acting.size(); ++i) {
    if (!projected().exists(acting[i])) return error(Errc::kInvalid, "pg_temp names a missing osd");
    if (std::find(acting.begin(), acting.begin() + i, acting[i]) != acting.begin() + i)
      return error(Errc::kInvalid, "pg_temp names an osd twice");
  }
  // Already so: nothing to commit.
  const auto& temps = projected().overrides.pg_temp;
  auto cur = temps.find(pg);
  if (acting.empty() ? cur == temps.end() : (cur != temps.end() && cur->second == acting)) {
    if (done) done(Status());
    return {};
  }
  return change(
      [&](const OsdMap& m, OsdMapIncremental& inc) -> Status {
        inc.new_pg_temp[pg] = acting;
        // The PG's primary in the new interval would ask for up_thru >= this epoch
        // before going active: record it now and save it the round trip (claiming
        // an interval may have gone active when it did not is always safe).
        OsdMap next = m;
        if (acting.empty())
          next.overrides.pg_temp.erase(pg);
        else
          next.overrides.pg_temp[pg] = acting;
        auto mp = next.map_pg(pg);
        if (mp.ok() && mp->acting_primary >= 0) {
          auto it = inc.new_osds.find(mp->acting_primary);
          const crush::OsdInfo* cur = m.osd(mp->acting_primary);
          if (it == inc.new_osds.end() && cur) it = inc.new_osds.emplace(mp->acting_primary, *cur).first;
          if (it != inc.new_osds.end() && it->second.up)
            it->second.up_thru = std::max(it->second.up_thru, inc.epoch);
        }
        return {};
      },
      std::move(done));
}

}  // namespace cairn::mon
