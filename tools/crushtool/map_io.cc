#include "tools/crushtool/map_io.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/encoding.h"
#include "crush/text.h"

namespace cairn::crushtool {

Result<crush::CrushMap> load_map(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Errc::kNotFound, "cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (data.size() > crush::kMaxTextSize) return Status(Errc::kRange, path + ": too large");
  Result<crush::CrushMap> m =
      !data.empty() && data[0] == '\x01' ? decode_from<crush::CrushMap>(data) : crush::compile(data);
  if (!m.ok()) return m.status().with_context(path);
  return m;
}

Status save_binary(const crush::CrushMap& map, const std::string& path) {
  if (path.empty()) return error(Errc::kInvalid, "-o is required");
  BufferList bl = encode_to_buffer(map);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  BufferPtr flat = bl.contiguous();
  std::string_view bytes = flat.view();
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return error(Errc::kIo, "cannot write " + path);
  return ok_status();
}

Status save_text(const std::string& text, const std::string& path) {
  if (path.empty()) {
    std::cout << text;
    return ok_status();
  }
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) return error(Errc::kIo, "cannot write " + path);
  return ok_status();
}

}  // namespace cairn::crushtool
