#include "msg/internal/hello.h"

namespace cairn::msg::internal {

void Hello::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.put(name);
  e.put(addr);
  e.u8(static_cast<uint8_t>(policy));
  e.u64(session_id);
  e.u64(in_seq);
  e.u64(out_base);
  e.boolean(fresh);
  e.end_struct(m);
}

void Hello::decode(Decoder& d) {
  auto s = d.begin_struct(1, "Hello");
  d.get(name);
  d.get(addr);
  uint8_t p = d.u8();
  if (p > static_cast<uint8_t>(Policy::kLossless)) d.fail("unknown policy");
  policy = static_cast<Policy>(p);
  session_id = d.u64();
  in_seq = d.u64();
  out_base = d.u64();
  fresh = d.boolean();
  d.end_struct(s);
}

}  // namespace cairn::msg::internal
