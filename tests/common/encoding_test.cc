#include "common/encoding.h"

#include <gtest/gtest.h>

#include "common/env.h"

namespace cairn {
namespace {

// Version 1 of a struct: two fields.
struct PointV1 {
  uint32_t x = 0;
  std::string name;
  void encode(Encoder& e) const {
    auto m = e.begin_struct(1, 1);
    e.put(x);
    e.put(name);
    e.end_struct(m);
  }
  void decode(Decoder& d) {
    auto s = d.begin_struct(1, "PointV1");
    d.get(x);
    d.get(name);
    d.end_struct(s);
  }
};

// Version 2 adds a field at the end; still readable by v1 decoders (compat 1).
struct PointV2 {
  uint32_t x = 0;
  std::string name;
  std::vector<uint64_t> extra;
  void encode(Encoder& e) const {
    auto m = e.begin_struct(2, 1);
    e.put(x);
    e.put(name);
    e.put(extra);
    e.end_struct(m);
  }
  void decode(Decoder& d) {
    auto s = d.begin_struct(2, "PointV2");
    d.get(x);
    d.get(name);
    if (s.version >= 2) d.get(extra);
    d.end_struct(s);
  }
};

// Version 3 breaks compatibility (compat 3): v1/v2 decoders must refuse it.
struct PointV3 {
  void encode(Encoder& e) const {
    auto m = e.begin_struct(3, 3);
    e.u64(1);
    e.end_struct(m);
  }
};

struct Outer {
  PointV1 a;
  std::map<std::string, PointV1> m;
  std::optional<int64_t> opt;
  bool flag = false;
  void encode(Encoder& e) const {
    auto mk = e.begin_struct(1, 1);
    e.put(a);
    e.put(m);
    e.put(opt);
    e.put(flag);
    e.end_struct(mk);
  }
  void decode(Decoder& d) {
    auto s = d.begin_struct(1);
    d.get(a);
    d.get(m);
    d.get(opt);
    d.get(flag);
    d.end_struct(s);
  }
};

TEST(Encoding, ScalarsAreLittleEndian) {
  BufferList bl;
  Encoder e(bl);
  e.u32(0x01020304);
  e.u16(0xA0B0);
  EXPECT_EQ(bl.to_string(), std::string("\x04\x03\x02\x01\xB0\xA0", 6));
}

TEST(Encoding, RoundTripNested) {
  Outer o;
  o.a = {7, "seven"};
  o.m["k1"] = {1, "one"};
  o.m["k2"] = {2, ""};
  o.opt = -42;
  o.flag = true;
  BufferList bl = encode_to_buffer(o);
  auto r = decode_from<Outer>(bl);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->a.x, 7u);
  EXPECT_EQ(r->a.name, "seven");
  EXPECT_EQ(r->m.size(), 2u);
  EXPECT_EQ(r->m["k1"].name, "one");
  EXPECT_EQ(*r->opt, -42);
  EXPECT_TRUE(r->flag);
}

TEST(Encoding, OldDecoderSkipsNewFields) {
  PointV2 v2{5, "five", {1, 2, 3}};
  BufferList bl = encode_to_buffer(v2);
  // Followed by another value, to prove the skip lands exactly at the end.
  Encoder e(bl);
  e.u32(0xfeedbeef);
  std::string bytes = bl.to_string();
  Decoder d(bytes);
  PointV1 v1;
  d.get(v1);
  EXPECT_EQ(d.u32(), 0xfeedbeefu);
  ASSERT_TRUE(d.finish().ok()) << d.status().to_string();
  EXPECT_EQ(v1.x, 5u);
  EXPECT_EQ(v1.name, "five");
}

TEST(Encoding, NewDecoderReadsOldEncoding) {
  PointV1 v1{9, "nine"};
  auto r = decode_from<PointV2>(encode_to_buffer(v1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->x, 9u);
  EXPECT_TRUE(r->extra.empty());
}

TEST(Encoding, IncompatibleVersionIsRefused) {
  auto r = decode_from<PointV2>(encode_to_buffer(PointV3{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kNotSupported);
}

TEST(Encoding, EveryTruncationFailsCleanly) {
  Outer o;
  o.a = {7, "seven"};
  o.m["key"] = {1, "one"};
  o.opt = 3;
  std::string bytes = encode_to_buffer(o).to_string();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_from<Outer>(std::string_view(bytes.data(), n));
    EXPECT_FALSE(r.ok()) << "truncated to " << n << " decoded";
  }
  EXPECT_TRUE(decode_from<Outer>(bytes).ok());
  EXPECT_EQ(decode_from<Outer>(bytes + "x").code(), Errc::kCorrupt);  // trailing byte
}

TEST(Encoding, HugeCountsDoNotAllocate) {
  BufferList bl;
  Encoder e(bl);
  e.u32(0xffffffff);  // vector count
  std::string bytes = bl.to_string();
  auto r = decode_from<std::vector<std::string>>(bytes);
  EXPECT_EQ(r.code(), Errc::kCorrupt);
  // String length past the end.
  BufferList bl2;
  Encoder e2(bl2);
  e2.u32(1000);
  e2.raw("abc", 3);
  EXPECT_EQ(decode_from<std::string>(bl2).code(), Errc::kCorrupt);
}

TEST(Encoding, StructLengthBeyondInputFails) {
  BufferList bl;
  Encoder e(bl);
  e.u8(1);
  e.u8(1);
  e.u32(1 << 20);  // body length far past the end
  e.u32(5);
  EXPECT_EQ(decode_from<PointV1>(bl).code(), Errc::kCorrupt);
}

TEST(Encoding, FieldsCannotReadPastTheirStruct) {
  // A struct whose declared length is shorter than its fields: the field read must
  // fail rather than consume the bytes after the struct.
  BufferList bl;
  Encoder e(bl);
  e.u8(1);
  e.u8(1);
  e.u32(2);  // claims 2 bytes of body, but x alone needs 4
  e.u32(7);
  e.str("name");
  std::string bytes = bl.to_string();
  Decoder d(bytes);
  PointV1 p;
  d.get(p);
  EXPECT_TRUE(d.failed());
}

TEST(Encoding, BadBooleanIsAnError) {
  std::string b("\x02", 1);
  EXPECT_EQ(decode_from<bool>(b).code(), Errc::kCorrupt);
}

TEST(Encoding, RandomGarbageNeverCrashes) {
  SeededRandom rng(1234);
  Outer o;
  o.m["abc"] = {1, "x"};
  std::string good = encode_to_buffer(o).to_string();
  for (int i = 0; i < 20000; ++i) {
    std::string s = good;
    int flips = 1 + static_cast<int>(rng.uniform(4));
    for (int f = 0; f < flips; ++f) s[rng.uniform(s.size())] = static_cast<char>(rng.next_u64());
    if (rng.chance(0.3)) s.resize(rng.uniform(s.size() + 1));
    auto r = decode_from<Outer>(s);  // must return, ok or not, without UB
    (void)r;
  }
  SUCCEED();
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// Vectors of integers are copied in one piece: the bytes must be exactly those of
// encoding each element (old encoders, other hosts), and decoding must bound-check.
TEST(Encoding, IntegerVectorsEncodeAsTheirElements) {
  std::vector<uint32_t> crcs{1, 0xdeadbeef, 0, 0x01020304};
  BufferList bulk = encode_to_buffer(crcs);
  BufferList each;
  Encoder e(each);
  e.u32(static_cast<uint32_t>(crcs.size()));
  for (uint32_t c : crcs) e.u32(c);
  EXPECT_EQ(bulk.to_string(), each.to_string());
  auto back = decode_from<std::vector<uint32_t>>(bulk.to_string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, crcs);
  std::vector<int64_t> big{-1, 1ll << 40};
  EXPECT_EQ(*decode_from<std::vector<int64_t>>(encode_to_buffer(big).to_string()), big);
  std::vector<uint32_t> empty;
  EXPECT_TRUE(decode_from<std::vector<uint32_t>>(encode_to_buffer(empty).to_string())->empty());
  // A count the input cannot hold, and every truncation, fail cleanly.
  std::string s = bulk.to_string();
  for (size_t n = 0; n < s.size(); ++n)
    EXPECT_FALSE(decode_from<std::vector<uint32_t>>(s.substr(0, n)).ok()) << n;
}

}  // namespace
}  // namespace cairn
