// libFuzzer: decoding arbitrary bytes as a CRUSH map never crashes, and what it
// accepts survives an encode/decode round trip and maps.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/encoding.h"
#include "crush/crush_map.h"
#include "crush/mapper.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto m = cairn::decode_from<cairn::crush::CrushMap>(bytes);
  if (!m.ok()) return 0;
  auto again = cairn::decode_from<cairn::crush::CrushMap>(cairn::encode_to_buffer(*m));
  if (!again.ok() || !(*again == *m)) std::abort();
  auto mapper = cairn::crush::Mapper::build(*m);
  if (!mapper.ok()) std::abort();
  std::vector<cairn::crush::ItemId> out;
  for (const auto& [id, r] : m->rules) (void)mapper->map(id, 7, 3, {}, out);
  return 0;
}
