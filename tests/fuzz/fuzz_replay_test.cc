// Runs the libFuzzer target's entry point under GCC as a plain unit test: every
// file of the seed corpus, then deterministic mutations of each (bit flips,
// truncations, byte splices), so CI exercises the decoders without clang.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/env.h"
#include "msg/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int run(const std::string& s) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::vector<std::string> load_corpus() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(CAIRN_FUZZ_CORPUS_DIR)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

TEST(FuzzReplay, SeedCorpus) {
  auto corpus = load_corpus();
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& s : corpus) EXPECT_EQ(run(s), 0);
}

// The seeds are written by make_seeds.py from docs/wire-format.md: the decoder must agree.
TEST(FuzzReplay, SeedsMatchTheWireFormat) {
  auto read = [](const char* name) {
    std::ifstream f(std::string(CAIRN_FUZZ_CORPUS_DIR) + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  cairn::msg::FrameLimits limits;
  auto hello = cairn::msg::decode_frame(read("hello_frame"), limits, nullptr);
  ASSERT_TRUE(hello.ok()) << hello.status().to_string();
  EXPECT_EQ(hello->header.type, cairn::msg::kMsgHello);
  auto data = cairn::msg::decode_frame(read("data_frame"), limits, nullptr);
  ASSERT_TRUE(data.ok()) << data.status().to_string();
  EXPECT_EQ(data->header.tid, 9u);
  EXPECT_EQ(data->data.size(), 1024u);
  EXPECT_EQ(cairn::msg::decode_frame(read("huge_data_len"), limits, nullptr).code(), cairn::Errc::kCorrupt);
  EXPECT_EQ(cairn::msg::decode_frame(read("bad_magic"), limits, nullptr).code(), cairn::Errc::kCorrupt);
  EXPECT_EQ(cairn::msg::decode_frame(read("truncated_frame"), limits, nullptr).code(), cairn::Errc::kAgain);
}

TEST(FuzzReplay, Mutations) {
  cairn::SeededRandom rng(12345);
  auto corpus = load_corpus();
  for (const auto& seed : corpus) {
    for (int i = 0; i < 2000; ++i) {
      std::string s = seed;
      switch (rng.uniform(3)) {
        case 0:
          if (!s.empty()) s[rng.uniform(s.size())] ^= static_cast<char>(1u << rng.uniform(8));
          break;
        case 1: s.resize(rng.uniform(s.size() + 1)); break;
        default:
          if (!s.empty()) s[rng.uniform(s.size())] = static_cast<char>(rng.uniform(256));
      }
      EXPECT_EQ(run(s), 0);
    }
  }
}

}  // namespace
