#include "msg/entity.h"

#include <gtest/gtest.h>

#include "msg/internal/hello.h"

namespace cairn::msg {
namespace {

TEST(Entity, ParseAndFormatInstance) {
  auto i = EntityInst::parse("osd.3@127.0.0.1:6800");
  ASSERT_TRUE(i.ok()) << i.status().to_string();
  EXPECT_EQ(i->name.type, EntityType::kOsd);
  EXPECT_EQ(i->name.id, "3");
  EXPECT_EQ(i->addr.host, "127.0.0.1");
  EXPECT_EQ(i->addr.port, 6800);
  EXPECT_EQ(i->to_string(), "osd.3@127.0.0.1:6800");
  EXPECT_EQ(EntityInst::parse("client.admin@[::1]:0")->to_string(), "client.admin@[::1]:0");
  EXPECT_EQ(EntityName::parse("mon.a")->to_string(), "mon.a");
}

TEST(Entity, RejectsMalformed) {
  for (const char* bad : {"", "osd", "osd.", ".3", "disk.3", "osd.3 ", "osd.a/b", "osd.3@", "osd.3@127.0.0.1",
                          "osd.3@127.0.0.1:", "osd.3@127.0.0.1:65536", "osd.3@127.0.0.1:-1", "osd.3@host:1",
                          "osd.3@[::1:1", "osd.3@::1:1x", "osd.3@127.0.0.1:80x", "osd.3127.0.0.1:1"}) {
    EXPECT_FALSE(EntityInst::parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(EntityName::parse("osd." + std::string(kMaxEntityIdLength + 1, 'x')).ok());
  EXPECT_TRUE(EntityName::parse("osd." + std::string(kMaxEntityIdLength, 'x')).ok());
}

TEST(Entity, EncodeRoundTrip) {
  auto i = *EntityInst::parse("mds.b@10.1.2.3:7000");
  auto n = decode_from<EntityName>(encode_to_buffer(i.name));
  auto a = decode_from<EntityAddr>(encode_to_buffer(i.addr));
  ASSERT_TRUE(n.ok() && a.ok());
  EXPECT_EQ(*n, i.name);
  EXPECT_EQ(*a, i.addr);
}

TEST(Hello, RoundTripAndTruncation) {
  internal::Hello h;
  h.name = *EntityName::parse("osd.1");
  h.addr = *EntityAddr::parse("127.0.0.1:1234");
  h.policy = Policy::kLossless;
  h.session_id = 99;
  h.in_seq = 5;
  h.out_base = 3;
  h.fresh = true;
  std::string bytes = encode_to_buffer(h).to_string();
  auto back = decode_from<internal::Hello>(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, h.name);
  EXPECT_EQ(back->session_id, 99u);
  EXPECT_TRUE(back->fresh);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_from<internal::Hello>(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace cairn::msg
