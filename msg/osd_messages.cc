#include "msg/osd_messages.h"

namespace cairn::msg {

void OsdSubOp::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(code);
  e.put(flags);
  e.put(off);
  e.put(len);
  e.put(name);
  e.put(name2);
  e.put(keys);
  e.put(kvs);
  e.put(indata_len);
  e.end_struct(m);
}

void OsdSubOp::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdSubOp");
  d.get(code);
  d.get(flags);
  d.get(off);
  d.get(len);
  d.get(name);
  d.get(name2);
  d.get(keys);
  d.get(kvs);
  d.get(indata_len);
  d.end_struct(s);
}

void OsdOpMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(client);
  e.put(tid);
  e.put(map_epoch);
  e.put(pool);
  e.put(pg_seed);
  e.put(hash);
  e.put(nspace);
  e.put(name);
  e.put(flags);
  e.put(attempt);
  e.put(ops);
  e.end_struct(m);
}

void OsdOpMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdOpMsg");
  d.get(client);
  d.get(tid);
  d.get(map_epoch);
  d.get(pool);
  d.get(pg_seed);
  d.get(hash);
  d.get(nspace);
  d.get(name);
  d.get(flags);
  d.get(attempt);
  d.get(ops);
  d.end_struct(s);
}

void OsdSubResult::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(rval);
  e.put(outdata_len);
  e.end_struct(m);
}

void OsdSubResult::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdSubResult");
  d.get(rval);
  d.get(outdata_len);
  d.end_struct(s);
}

void OsdOpReplyMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(result);
  e.put(map_epoch);
  e.put(version_epoch);
  e.put(version);
  e.put(results);
  e.end_struct(m);
}

void OsdOpReplyMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdOpReplyMsg");
  d.get(result);
  d.get(map_epoch);
  d.get(version_epoch);
  d.get(version);
  d.get(results);
  d.end_struct(s);
}

void StatOut::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(size);
  e.put(mtime_ns);
  e.put(version);
  e.end_struct(m);
}

void StatOut::decode(Decoder& d) {
  auto s = d.begin_struct(1, "StatOut");
  d.get(size);
  d.get(mtime_ns);
  d.get(version);
  d.end_struct(s);
}

void OmapOut::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(entries);
  e.put(more);
  e.end_struct(m);
}

void OmapOut::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OmapOut");
  d.get(entries);
  d.get(more);
  d.end_struct(s);
}

void ObjectCursor::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(hash);
  e.put(nspace);
  e.put(name);
  e.end_struct(m);
}

void ObjectCursor::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ObjectCursor");
  d.get(hash);
  d.get(nspace);
  d.get(name);
  d.end_struct(s);
}

void PgListOut::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(objects);
  e.put(at_end);
  e.put(next);
  e.end_struct(m);
}

void PgListOut::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PgListOut");
  d.get(objects);
  d.get(at_end);
  d.get(next);
  d.end_struct(s);
}

void NotifyOut::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(acks);
  e.put(timed_out);
  e.end_struct(m);
}

void NotifyOut::decode(Decoder& d) {
  auto s = d.begin_struct(1, "NotifyOut");
  d.get(acks);
  d.get(timed_out);
  d.end_struct(s);
}

void WatchNotifyMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(cookie);
  e.put(notify_id);
  e.put(pool);
  e.put(name);
  e.end_struct(m);
}

void WatchNotifyMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "WatchNotifyMsg");
  d.get(cookie);
  d.get(notify_id);
  d.get(pool);
  d.get(name);
  d.end_struct(s);
}

void RepOpMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(pool);
  e.put(pg_seed);
  e.put(map_epoch);
  e.put(version_epoch);
  e.put(version);
  e.put(rep_tid);
  e.put(push);
  e.put(log_entry);
  e.end_struct(m);
}

void RepOpMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "RepOpMsg");
  d.get(pool);
  d.get(pg_seed);
  d.get(map_epoch);
  d.get(version_epoch);
  d.get(version);
  d.get(rep_tid);
  d.get(push);
  d.get(log_entry);
  d.end_struct(s);
}

void RepOpReplyMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(pool);
  e.put(pg_seed);
  e.put(map_epoch);
  e.put(rep_tid);
  e.put(result);
  e.put(from_osd);
  e.end_struct(m);
}

void RepOpReplyMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "RepOpReplyMsg");
  d.get(pool);
  d.get(pg_seed);
  d.get(map_epoch);
  d.get(rep_tid);
  d.get(result);
  d.get(from_osd);
  d.end_struct(s);
}

void OsdPingMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(from);
  e.put(map_epoch);
  e.put(stamp_ns);
  e.put(reply);
  e.end_struct(m);
}

void OsdPingMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "OsdPingMsg");
  d.get(from);
  d.get(map_epoch);
  d.get(stamp_ns);
  d.get(reply);
  d.end_struct(s);
}

void PgInfoMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(4, 1);
  e.put(pool);
  e.put(pg_seed);
  e.put(map_epoch);
  e.put(from);
  e.put(last_update_epoch);
  e.put(last_update);
  e.put(last_epoch_started);
  e.put(objects);
  e.put(query);
  e.put(backfill_target);
  e.put(backfill_done);
  e.put(activate);
  e.put(log_first_epoch);
  e.put(log_first);
  e.put(log_complete);
  e.put(has_missing);
  e.put(last_complete_epoch);
  e.put(last_complete);
  e.put(recovered);
  e.end_struct(m);
}

void PgInfoMsg::decode(Decoder& d) {
  auto s = d.begin_struct(4, "PgInfoMsg");
  d.get(pool);
  d.get(pg_seed);
  d.get(map_epoch);
  d.get(from);
  d.get(last_update_epoch);
  d.get(last_update);
  d.get(last_epoch_started);
  d.get(objects);
  d.get(query);
  d.get(backfill_target);
  d.get(backfill_done);
  if (s.version >= 2) d.get(activate);
  if (s.version >= 3) {
    d.get(log_first_epoch);
    d.get(log_first);
    d.get(log_complete);
  }
  if (s.version >= 4) {
    d.get(has_missing);
    d.get(last_complete_epoch);
    d.get(last_complete);
    d.get(recovered);
  }
  d.end_struct(s);
}

void PgScanMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(3, 1);
  e.put(pool);
  e.put(pg_seed);
  e.put(map_epoch);
  e.put(scan_tid);
  e.put(start);
  e.put(max);
  e.put(reply);
  e.put(result);
  e.put(objects);
  e.put(versions);
  e.put(at_end);
  e.put(next);
  e.put(scrub);
  e.put(deep);
  e.put(sizes);
  e.put(attr_digests);
  e.put(data_digests);
  e.put(background);
  e.end_struct(m);
}

void PgScanMsg::decode(Decoder& d) {
  auto s = d.begin_struct(3, "PgScanMsg");
  d.get(pool);
  d.get(pg_seed);
  d.get(map_epoch);
  d.get(scan_tid);
  d.get(start);
  d.get(max);
  d.get(reply);
  d.get(result);
  d.get(objects);
  d.get(versions);
  d.get(at_end);
  d.get(next);
  if (s.version >= 2) {
    d.get(scrub);
    d.get(deep);
    d.get(sizes);
    d.get(attr_digests);
    d.get(data_digests);
  }
  if (s.version >= 3) d.get(background);
  d.end_struct(s);
}

void InconsistentObject::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(oid);
  e.put(bad_osds);
  e.put(errors);
  e.end_struct(m);
}

void InconsistentObject::decode(Decoder& d) {
  auto s = d.begin_struct(1, "InconsistentObject");
  d.get(oid);
  d.get(bad_osds);
  d.get(errors);
  d.end_struct(s);
}

void ScrubOut::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(objects);
  e.put(deep);
  e.put(repaired);
  e.put(stamp_ns);
  e.put(inconsistent);
  e.end_struct(m);
}

void ScrubOut::decode(Decoder& d) {
  auto s = d.begin_struct(1, "ScrubOut");
  d.get(objects);
  d.get(deep);
  d.get(repaired);
  d.get(stamp_ns);
  d.get(inconsistent);
  d.end_struct(s);
}

void PgPullMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(pool);
  e.put(pg_seed);
  e.put(map_epoch);
  e.put(tid);
  e.put(oid);
  e.end_struct(m);
}

void PgPullMsg::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PgPullMsg");
  d.get(pool);
  d.get(pg_seed);
  d.get(map_epoch);
  d.get(tid);
  d.get(oid);
  d.end_struct(s);
}

const char* osd_op_name(OsdOpCode c) {
  switch (c) {
    case OsdOpCode::kCreate: return "create";
    case OsdOpCode::kWrite: return "write";
    case OsdOpCode::kWriteFull: return "writefull";
    case OsdOpCode::kAppend: return "append";
    case OsdOpCode::kTruncate: return "truncate";
    case OsdOpCode::kZero: return "zero";
    case OsdOpCode::kRemove: return "remove";
    case OsdOpCode::kSetXattr: return "setxattr";
    case OsdOpCode::kRmXattr: return "rmxattr";
    case OsdOpCode::kOmapSetKeys: return "omap-set-keys";
    case OsdOpCode::kOmapRmKeys: return "omap-rm-keys";
    case OsdOpCode::kOmapClear: return "omap-clear";
    case OsdOpCode::kOmapSetHeader: return "omap-set-header";
    case OsdOpCode::kOmapRmRange: return "omap-rm-range";
    case OsdOpCode::kCmpXattr: return "cmpxattr";
    case OsdOpCode::kAssertVersion: return "assert-version";
    case OsdOpCode::kAssertExists: return "assert-exists";
    case OsdOpCode::kRead: return "read";
    case OsdOpCode::kStat: return "stat";
    case OsdOpCode::kGetXattr: return "getxattr";
    case OsdOpCode::kGetXattrs: return "getxattrs";
    case OsdOpCode::kOmapGetVals: return "omap-get-vals";
    case OsdOpCode::kOmapGetByKeys: return "omap-get-by-keys";
    case OsdOpCode::kOmapGetHeader: return "omap-get-header";
    case OsdOpCode::kWatch: return "watch";
    case OsdOpCode::kUnwatch: return "unwatch";
    case OsdOpCode::kNotify: return "notify";
    case OsdOpCode::kNotifyAck: return "notify-ack";
    case OsdOpCode::kPgList: return "pg-list";
    case OsdOpCode::kPgScrub: return "pg-scrub";
    case OsdOpCode::kPgListInconsistent: return "pg-list-inconsistent";
  }
  return nullptr;
}

bool osd_op_is_pg_wide(OsdOpCode c) {
  return c == OsdOpCode::kPgList || c == OsdOpCode::kPgScrub || c == OsdOpCode::kPgListInconsistent;
}

bool osd_op_is_write(OsdOpCode c) {
  auto v = static_cast<uint16_t>(c);
  return v >= 1 && v <= 14;
}

void OsdOpMsg::add(OsdSubOp op, BufferList& data, BufferList indata) {
  op.indata_len = static_cast<uint32_t>(indata.size());
  data.append(std::move(indata));
  if (osd_op_is_write(op.code))
    flags |= kOpFlagWrite;
  else if (op.code != OsdOpCode::kWatch && op.code != OsdOpCode::kUnwatch && op.code != OsdOpCode::kNotify &&
           op.code != OsdOpCode::kNotifyAck)
    flags |= kOpFlagRead;
  ops.push_back(std::move(op));
}

Status OsdOpMsg::validate(size_t data_len) const {
  if (ops.empty()) return Status(Errc::kInvalid, "op has no sub-ops");
  if (ops.size() > kMaxSubOps) return Status(Errc::kInvalid, "too many sub-ops");
  if (name.size() > kMaxObjectNameLength || nspace.size() > kMaxObjectNameLength)
    return Status(Errc::kNameTooLong, "object name longer than " + std::to_string(kMaxObjectNameLength));
  uint64_t total = 0;
  bool writes = false;
  for (const auto& op : ops) {
    if (osd_op_name(op.code) == nullptr)
      return Status(Errc::kInvalid, "unknown sub-op " + std::to_string(static_cast<unsigned>(op.code)));
    writes |= osd_op_is_write(op.code);
    total += op.indata_len;
  }
  if (total != data_len) return Status(Errc::kInvalid, "sub-op input lengths do not match the data segment");
  if (writes != ((flags & kOpFlagWrite) != 0))
    return Status(Errc::kInvalid, "write flag does not match sub-ops");
  return {};
}

std::vector<BufferList> split_data(const BufferList& data, const std::vector<uint32_t>& lens) {
  std::vector<BufferList> out;
  out.reserve(lens.size());
  size_t off = 0;
  for (uint32_t n : lens) {
    if (off + n > data.size()) n = static_cast<uint32_t>(data.size() - off);
    out.push_back(data.slice(off, n));
    off += n;
  }
  return out;
}

std::vector<uint32_t> indata_lens(const OsdOpMsg& m) {
  std::vector<uint32_t> lens;
  lens.reserve(m.ops.size());
  for (const auto& op : m.ops) lens.push_back(op.indata_len);
  return lens;
}

}  // namespace cairn::msg
