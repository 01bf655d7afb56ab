#include "common/encoding.h"

namespace cairn {

void Decoder::fail(std::string_view why) {
  if (status_.ok()) status_ = Status(Errc::kCorrupt, std::string(why));
}

void Decoder::fail_truncated(const char* what) { fail(std::string("truncated ") + what); }

Decoder::StructScope Decoder::begin_struct(uint8_t max_known_version, const char* what) {
  StructScope s;
  s.saved_end = end_;
  s.body_end = end_;
  uint8_t version = u8();
  uint8_t compat = u8();
  uint32_t len = u32();
  if (failed()) return s;
  if (compat > max_known_version) {
    status_ = Status(Errc::kNotSupported, std::string(what) + ": encoded with compat version " +
                                              std::to_string(compat) + ", newer than " +
                                              std::to_string(max_known_version));
    return s;
  }
  if (len > remaining()) {
    fail(std::string("truncated ") + what);
    return s;
  }
  s.version = version;
  s.body_end = p_ + len;
  end_ = s.body_end;
  return s;
}

void Decoder::end_struct(const StructScope& s) {
  if (failed()) {
    end_ = s.saved_end;
    return;
  }
  // Skip fields added by newer versions.
  p_ = s.body_end;
  end_ = s.saved_end;
}

Status Decoder::finish(bool exact) {
  if (!failed() && exact && remaining() != 0) fail("trailing bytes after decode");
  return status_;
}

}  // namespace cairn
