// Helpers shared by the store tests: a temporary directory removed on exit and
// short builders for ids and buffers.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "common/buffer.h"
#include "osd/store/object_id.h"

namespace cairn::store::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cairn-store-test-XXXXXX";
    const char* p = mkdtemp(tmpl);
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline ObjectId oid(const std::string& name, uint32_t hash = 0) {
  return ObjectId{hash, "", name, kHeadSnap};
}
inline BufferList bl(const std::string& s) { return BufferList::copy_of(s); }
inline std::string pattern(size_t len, char seed) {
  std::string s(len, '\0');
  for (size_t i = 0; i < len; ++i) s[i] = static_cast<char>(seed + i * 7 + (i >> 12));
  return s;
}

}  // namespace cairn::store::testing
