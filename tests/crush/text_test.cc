// Text form and binary encoding: exact round trips, clear errors on bad input.
#include "crush/text.h"

#include <random>

#include "tests/crush/test_util.h"

namespace cairn::crush {
namespace {

TEST(CrushText, WeightsRoundTripExactly) {
  for (uint32_t ip : {0u, 1u, 7u, 65535u})
    for (uint32_t f = 0; f < 65536; ++f) {
      Weight w = (ip << 16) | f, back = 0;
      ASSERT_TRUE(parse_weight(format_weight(w), back)) << format_weight(w);
      ASSERT_EQ(back, w) << format_weight(w);
    }
  Weight w = 0;
  EXPECT_TRUE(parse_weight("1", w));
  EXPECT_EQ(w, kWeightOne);
  EXPECT_TRUE(parse_weight("0.5", w));
  EXPECT_EQ(w, 0x8000u);
  for (const char* bad : {"", ".", "1.", "-1", "65536", "1.2.3", "x", "1.0000000001", "1e3"})
    EXPECT_FALSE(parse_weight(bad, w)) << bad;
}

TEST(CrushText, RoundTripBuiltMaps) {
  for (auto [h, o] : {std::pair{3u, 4u}, std::pair{100u, 10u}, std::pair{1u, 1u}}) {
    CrushMap m = testing::built(h, o);
    m.devices[0].weight = 0x1234f;
    m.devices[0].device_class = "";
    std::string text = decompile(m);
    auto back = compile(text);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(*back, m);
    EXPECT_EQ(decompile(*back), text);
  }
}

TEST(CrushText, CanonicalFormIsStable) {
  CrushMap m = testing::built(2, 1);
  m.rules.erase(kRuleErasureHost);
  m.rules.erase(kRuleErasureOsd);
  m.rules[kRuleReplicatedHost].steps[0].device_class = "hdd";
  EXPECT_EQ(decompile(m), R"(# cairn crush map
tunable choose_total_tries 50

# types
type 0 osd
type 1 host
type 2 chassis
type 3 rack
type 4 row
type 5 datacenter
type 6 root

# devices
device 0 osd.0 weight 1.00000 class hdd
device 1 osd.1 weight 1.00000 class hdd

# buckets
host host0 {
  id -2
  # weight 1.00000
  alg straw2
  item osd.0
}
host host1 {
  id -3
  # weight 1.00000
  alg straw2
  item osd.1
}
root default {
  id -1
  # weight 2.00000
  alg straw2
  item host0
  item host1
}

# rules
rule replicated_host {
  id 0
  type replicated
  step take default class hdd
  step chooseleaf firstn 0 type host
  step emit
}
rule replicated_osd {
  id 1
  type replicated
  step take default
  step chooseleaf firstn 0 type osd
  step emit
}
)");
}

const char* kSmall = R"(type 0 osd
type 1 host
device 0 osd.0 weight 1
host h {
  id -1
  item osd.0
}
rule r {
  id 0
  type replicated
  step take h
  step chooseleaf firstn 0 type osd
  step emit
}
)";

TEST(CrushText, BadTextGivesLineNumberedErrors) {
  ASSERT_TRUE(compile(kSmall).ok()) << compile(kSmall).status().to_string();
  const std::pair<const char*, const char*> bad[] = {
      {"type 0 osd\nbogus line\n", "line 2"},
      {"type 0 osd\ndevice x osd.0 weight 1\n", "line 2"},
      {"type 0 osd\ndevice 0 osd.0 weight -1\n", "bad weight"},
      {"type 0 osd\ndevice 0 osd.0 weight 1\ndevice 0 osd.1 weight 1\n", "duplicate device"},
      {"type 0 osd\ntype 1 host\nhost h {\n  id -1\n  item nope\n}\n", "unknown item 'nope'"},
      {"type 0 osd\ntype 1 host\nhost h {\n  id -1\n", "not closed"},
      {"type 0 osd\ntype 1 host\nhost h {\n  item osd.0\n}\n", "without id"},
      {"type 0 osd\ntype 1 host\nhost h {\n  id -1\n  alg straw\n}\n", "straw2"},
      {"type 0 osd\ntype 1 host\nhost a {\n  id -1\n  item b\n}\nhost b {\n  id -2\n  item a\n}\n", "cycle"},
      {"type 0 osd\nrule r {\n  id 0\n  step emit\n}\n", "emits nothing"},
      {"type 0 osd\nrule r {\n  id 0\n  step take nowhere\n  step emit\n}\n", "unknown item"},
      {"type 0 osd\ndevice 0 osd.0 weight 1\nrule r {\n  id 0\n  step take osd.0\n  step choose firstn 1 "
       "type "
       "rack\n  step emit\n}\n",
       "unknown type"},
      {"device 0 osd.0 weight 1\n", "type 0"},
      {"type 0 osd\ntunable choose_total_tries 0\n", "choose_total_tries"},
      {"type 0 osd\ndevice 0 bad/name weight 1\n", "bad device name"},
  };
  for (const auto& [text, want] : bad) {
    auto r = compile(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.code(), Errc::kInvalid) << text;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status().message();
  }
}

TEST(CrushText, MutatedTextNeverCrashes) {
  std::string base = decompile(testing::built(3, 2));
  std::mt19937 rng(3);
  const char alphabet[] = "{}# \n-0123456789abcdeghostyupmrlw.";
  for (int i = 0; i < 3000; ++i) {
    std::string t = base;
    for (int k = 0; k < 1 + i % 4; ++k) {
      size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % (sizeof(alphabet) - 1)]; break;
        case 1: t.erase(at, 1 + rng() % 20); break;
        default: t.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
      }
    }
    auto r = compile(t);
    if (r.ok()) {
      ASSERT_TRUE(r->validate().ok());
      EXPECT_TRUE(Mapper::build(*r).ok());
    }
  }
}

TEST(CrushCodec, RoundTrip) {
  CrushMap m = testing::built(5, 3);
  m.rules[kRuleReplicatedHost].steps[0].device_class = "hdd";
  m.tunables.choose_total_tries = 77;
  BufferList bl = encode_to_buffer(m);
  auto back = decode_from<CrushMap>(bl);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, m);
}

TEST(CrushCodec, TruncatedAndCorruptBytesAreErrors) {
  CrushMap m = testing::built(3, 2);
  std::string bytes(encode_to_buffer(m).contiguous().view());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_from<CrushMap>(std::string_view(bytes.data(), n));
    ASSERT_FALSE(r.ok()) << n;
  }
  std::mt19937 rng(5);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = bytes;
    for (int k = 0; k < 1 + i % 3; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    auto r = decode_from<CrushMap>(b);
    if (r.ok()) {
      ++accepted;  // a flip that still forms a valid map (e.g. inside a weight)
      ASSERT_TRUE(r->validate().ok());
      ASSERT_TRUE(Mapper::build(*r).ok());
    }
  }
  EXPECT_LT(accepted, 20000);
}

TEST(CrushCodec, InvalidMapIsRejected) {
  CrushMap m = testing::built(3, 2);
  m.buckets[-2].items.push_back(-1);  // a cycle: root under host0
  auto r = decode_from<CrushMap>(encode_to_buffer(m));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cycle"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace cairn::crush
