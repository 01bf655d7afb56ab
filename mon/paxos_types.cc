#include "mon/paxos_types.h"

namespace cairn::mon {

void KvOp::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(kind);
  e.put(key);
  e.put(value);
  e.end_struct(m);
}

void KvOp::decode(Decoder& d) {
  auto s = d.begin_struct(1, "KvOp");
  d.get(kind);
  d.get(key);
  d.get(value);
  if (kind != kPut && kind != kErase) d.fail("KvOp: unknown kind");
  d.end_struct(s);
}

void KvTxn::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(ops);
  e.end_struct(m);
}

void KvTxn::decode(Decoder& d) {
  auto s = d.begin_struct(1, "KvTxn");
  d.get(ops);
  d.end_struct(s);
}

void PaxosValue::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(txns);
  e.end_struct(m);
}

void PaxosValue::decode(Decoder& d) {
  auto s = d.begin_struct(1, "PaxosValue");
  d.get(txns);
  d.end_struct(s);
}

void LogEntry::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(version);
  e.put(value);
  e.end_struct(m);
}

void LogEntry::decode(Decoder& d) {
  auto s = d.begin_struct(1, "LogEntry");
  d.get(version);
  d.get(value);
  d.end_struct(s);
}

void Snapshot::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(last_committed);
  e.put(kv);
  e.end_struct(m);
}

void Snapshot::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Snapshot");
  d.get(last_committed);
  d.get(kv);
  d.end_struct(s);
}

void Uncommitted::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(pn);
  e.put(version);
  e.put(value);
  e.end_struct(m);
}

void Uncommitted::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Uncommitted");
  d.get(pn);
  d.get(version);
  d.get(value);
  d.end_struct(s);
}

void PaxosMsg::encode(Encoder& e) const {
  auto m = e.begin_struct(2, 1);
  e.put(op);
  e.put(pn);
  e.put(version);
  e.put(last_committed);
  e.put(lease_seq);
  e.put(lease_ms);
  e.put(value);
  e.put(uncommitted);
  e.put(entries);
  e.put(snapshot);
  e.put(wall_ns);
  e.put(skew_ns);
  e.end_struct(m);
}

void PaxosMsg::decode(Decoder& d) {
  auto s = d.begin_struct(2, "PaxosMsg");
  d.get(op);
  d.get(pn);
  d.get(version);
  d.get(last_committed);
  d.get(lease_seq);
  d.get(lease_ms);
  d.get(value);
  d.get(uncommitted);
  d.get(entries);
  d.get(snapshot);
  if (s.version >= 2) {
    d.get(wall_ns);
    d.get(skew_ns);
  }
  if (op < PaxosOp::kPrepare || op > PaxosOp::kLagging) d.fail("PaxosMsg: unknown op");
  d.end_struct(s);
}

}  // namespace cairn::mon
