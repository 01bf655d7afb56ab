#include "msg/mon_messages.h"

namespace cairn::msg {

void MonCommandMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(args);
  e.put(json);
  e.end_struct(m);
}

void MonCommandMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonCommandMsg");
  d.get(args);
  d.get(json);
  d.end_struct(s);
}

void MonCommandReplyMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(code);
  e.put(out);
  e.put(err);
  e.put(leader_addr);
  e.end_struct(m);
}

void MonCommandReplyMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonCommandReplyMsg");
  d.get(code);
  d.get(out);
  d.get(err);
  d.get(leader_addr);
  d.end_struct(s);
}

void MonSubscribeMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osdmap_from);
  e.put(onetime);
  e.end_struct(m);
}

void MonSubscribeMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonSubscribeMsg");
  d.get(osdmap_from);
  d.get(onetime);
  d.end_struct(s);
}

void MonGetOsdMapsMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(from);
  e.put(to);
  e.end_struct(m);
}

void MonGetOsdMapsMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "MonGetOsdMapsMsg");
  d.get(from);
  d.get(to);
  d.end_struct(s);
}

void OsdMapMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(fsid);
  e.put(full);
  e.put(incremental);
  e.end_struct(m);
}

void OsdMapMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdMapMsg");
  d.get(fsid);
  d.get(full);
  d.get(incremental);
  d.end_struct(s);
}

void OsdBootMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osd);
  e.put(addr);
  e.put(instance);
  e.put(host);
  e.put(weight);
  e.end_struct(m);
}

void OsdBootMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdBootMsg");
  d.get(osd);
  d.get(addr);
  d.get(instance);
  d.get(host);
  d.get(weight);
  d.end_struct(s);
}

void OsdAckMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(code);
  e.put(err);
  e.put(epoch);
  e.put(leader_addr);
  e.end_struct(m);
}

void OsdAckMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdAckMsg");
  d.get(code);
  d.get(err);
  d.get(epoch);
  d.get(leader_addr);
  d.end_struct(s);
}

void OsdFailureMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(target);
  e.put(reporter);
  e.put(failed_for_ms);
  e.put(still_alive);
  e.end_struct(m);
}

void OsdFailureMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdFailureMsg");
  d.get(target);
  d.get(reporter);
  d.get(failed_for_ms);
  d.get(still_alive);
  d.end_struct(s);
}

void OsdBeaconMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osd);
  e.put(epoch);
  e.end_struct(m);
}

void OsdBeaconMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdBeaconMsg");
  d.get(osd);
  d.get(epoch);
  d.end_struct(s);
}

void OsdAliveMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osd);
  e.put(want_up_thru);
  e.end_struct(m);
}

void OsdAliveMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdAliveMsg");
  d.get(osd);
  d.get(want_up_thru);
  d.end_struct(s);
}

void OsdPgTempMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osd);
  e.put(pool);
  e.put(seed);
  e.put(acting);
  e.end_struct(m);
}

void OsdPgTempMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdPgTempMsg");
  d.get(osd);
  d.get(pool);
  d.get(seed);
  d.get(acting);
  d.end_struct(s);
}

std::string pg_state_string(uint32_t bits) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {kPgActive, "active"},
      {kPgClean, "clean"},
      {kPgPeering, "peering"},
      {kPgDown, "down"},
      {kPgIncomplete, "incomplete"},
      {kPgDegraded, "degraded"},
      {kPgUndersized, "undersized"},
      {kPgRemapped, "remapped"},
      {kPgRecovering, "recovering"},
      {kPgBackfillWait, "backfill_wait"},
      {kPgBackfilling, "backfilling"},
      {kPgBackfillToofull, "backfill_toofull"},
      {kPgInconsistent, "inconsistent"},
  };
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (bits & bit) out += (out.empty() ? "" : "+") + std::string(name);
  }
  return out.empty() ? "unknown" : out;
}

void PgStatEntry::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 1);
  e.put(pool);
  e.put(seed);
  e.put(state);
  e.put(objects);
  e.put(bytes);
  e.put(degraded_objects);
  e.put(misplaced_objects);
  e.put(log_head);
  e.put(last_epoch_started);
  e.end_struct(m);
}

void PgStatEntry::decode(Decoder& d) {
  auto s = d.begin_struct(2, "PgStatEntry");
  d.get(pool);
  d.get(seed);
  d.get(state);
  d.get(objects);
  d.get(bytes);
  d.get(degraded_objects);
  d.get(misplaced_objects);
  d.get(log_head);
  if (s.version >= 2) d.get(last_epoch_started);
  d.end_struct(s);
}

void OsdStatsMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(osd);
  e.put(epoch);
  e.put(used_bytes);
  e.put(total_bytes);
  e.put(pgs);
  e.end_struct(m);
}

void OsdStatsMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdStatsMsg");
  d.get(osd);
  d.get(epoch);
  d.get(used_bytes);
  d.get(total_bytes);
  d.get(pgs);
  d.end_struct(s);
}

}  // namespace cairn::msg
