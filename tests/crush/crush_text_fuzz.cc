// libFuzzer: compile() on arbitrary text never crashes, and what it accepts
// round-trips exactly and maps.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crush/mapper.h"
#include "crush/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = cairn::crush::compile(text);
  if (!m.ok()) return 0;
  auto back = cairn::crush::compile(cairn::crush::decompile(*m));
  if (!back.ok() || !(*back == *m)) std::abort();
  auto mapper = cairn::crush::Mapper::build(*m);
  if (!mapper.ok()) std::abort();
  std::vector<cairn::crush::ItemId> out;
  for (const auto& [id, r] : m->rules) (void)mapper->map(id, 1, 3, {}, out);
  return 0;
}
