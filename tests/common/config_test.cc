#include "common/config.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

Config make() {
  Config c;
  c.define("osd_data", OptType::kString, "/var/lib/cairn/osd", "data directory")
      .define("osd_threads", OptType::kUint, "2", "shards")
      .define("debug", OptType::kBool, "false", "debug mode")
      .define("cache_size", OptType::kSize, "256M", "cache budget")
      .define("grace", OptType::kDuration, "20s", "heartbeat grace")
      .define("ratio", OptType::kDouble, "0.95", "full ratio");
  return c;
}

TEST(Config, Defaults) {
  Config c = make();
  EXPECT_EQ(c.get_string("osd_data"), "/var/lib/cairn/osd");
  EXPECT_EQ(c.get_uint("osd_threads"), 2u);
  EXPECT_FALSE(c.get_bool("debug"));
  EXPECT_EQ(c.get_size("cache_size"), 256ull << 20);
  EXPECT_EQ(c.get_duration_ms("grace"), 20000u);
  EXPECT_DOUBLE_EQ(c.get_double("ratio"), 0.95);
}

TEST(Config, PrecedenceFileThenEnvThenArgs) {
  Config c = make();
  ASSERT_TRUE(c.parse_ini("[global]\nosd_threads = 4\nunknown_for_other_daemon = 1\n"
                          "[osd]\nosd_data = /d/osd\n[osd.3]\nosd_data = /d/osd3\n[mon]\nosd_threads=9\n",
                          {"osd", "osd.3"})
                  .ok());
  EXPECT_EQ(c.get_uint("osd_threads"), 4u);
  EXPECT_EQ(c.get_string("osd_data"), "/d/osd3");
  ASSERT_TRUE(c.apply_env({{"CAIRN_OSD_THREADS", "6"}, {"CAIRN_OTHER", "x"}}).ok());
  EXPECT_EQ(c.get_uint("osd_threads"), 6u);
  const char* argv[] = {"prog", "--osd-threads=8", "--debug", "pos1", "--cache_size", "1G", "pos2"};
  ASSERT_TRUE(c.apply_args(7, argv).ok());
  EXPECT_EQ(c.get_uint("osd_threads"), 8u);
  EXPECT_TRUE(c.get_bool("debug"));
  EXPECT_EQ(c.get_size("cache_size"), 1ull << 30);
  EXPECT_EQ(c.positional(), (std::vector<std::string>{"pos1", "pos2"}));
}

TEST(Config, BadValuesAreErrorsNamingTheOption) {
  Config c = make();
  Status st = c.set("osd_threads", "lots");
  EXPECT_EQ(st.code(), Errc::kInvalid);
  EXPECT_NE(st.message().find("osd_threads"), std::string::npos);
  EXPECT_FALSE(c.set("osd_threads", "-1").ok());
  EXPECT_FALSE(c.set("cache_size", "12Q").ok());
  EXPECT_FALSE(c.set("grace", "soon").ok());
  EXPECT_FALSE(c.set("debug", "maybe").ok());
  EXPECT_FALSE(c.set("no_such", "1").ok());
  EXPECT_EQ(c.get_uint("osd_threads"), 2u);  // unchanged
  const char* argv[] = {"prog", "--nope=1"};
  EXPECT_FALSE(c.apply_args(2, argv).ok());
  const char* argv2[] = {"prog", "--osd_data"};
  EXPECT_FALSE(c.apply_args(2, argv2).ok());  // missing value
  EXPECT_FALSE(c.parse_ini("[global\n", {}).ok());
  EXPECT_FALSE(c.parse_ini("just words\n", {}).ok());
}

TEST(Config, HelpListsEveryOption) {
  Config c = make();
  const char* argv[] = {"prog", "--help"};
  ASSERT_TRUE(c.apply_args(2, argv).ok());
  EXPECT_TRUE(c.help_requested());
  std::string h = c.help_text("cairn-osd");
  for (auto name : {"osd_data", "osd_threads", "debug", "cache_size", "grace", "ratio"})
    EXPECT_NE(h.find(name), std::string::npos) << name;
  EXPECT_NE(c.dump().find("osd_threads = 2"), std::string::npos);
}

TEST(Config, Parsers) {
  EXPECT_EQ(*parse_size("4K"), 4096u);
  EXPECT_EQ(*parse_size("4KiB"), 4096u);
  EXPECT_EQ(*parse_size("10"), 10u);
  EXPECT_FALSE(parse_size("-1").ok());
  EXPECT_FALSE(parse_size("99999999999999999999T").ok());
  EXPECT_EQ(*parse_duration_ms("250ms"), 250u);
  EXPECT_EQ(*parse_duration_ms("1.5s"), 1500u);
  EXPECT_EQ(*parse_duration_ms("2m"), 120000u);
  EXPECT_EQ(*parse_int("0x10"), 16);
  EXPECT_FALSE(parse_int("12abc").ok());
}

}  // namespace
}  // namespace cairn
