// libFuzzer target: frame headers, whole frames and the structs the messenger
// decodes from the wire (Hello, entity names and addresses). Any input must give
// a value or an error: never a crash, an assert or an over-read (ASan checks).
//
// Build and run (clang):  scripts/fuzz.sh 60   (or see docs/wire-format.md)
// Replayed under GCC by msg_fuzz_replay_test (ctest label unit).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "msg/entity.h"
#include "msg/frame.h"
#include "msg/internal/hello.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  using namespace cairn::msg;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Small limits so the fuzzer can reach the length checks cheaply.
  FrameLimits limits{.max_front = 1 << 16, .max_data = 1 << 20};
  size_t consumed = 0;
  auto f = decode_frame(in, limits, &consumed);
  if (f.ok()) {
    if (consumed > size || consumed < kFrameHeaderSize) __builtin_trap();
    (void)decode_from<internal::Hello>(f->front);
  }
  if (size >= kFrameHeaderSize) (void)decode_frame_header(in.data(), limits);
  (void)decode_from<internal::Hello>(in);
  (void)decode_from<EntityName>(in);
  (void)decode_from<EntityAddr>(in);
  (void)EntityInst::parse(in);
  return 0;
}
