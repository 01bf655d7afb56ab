#include "common/status.h"

namespace cairn {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kOk: return "ok";
    case Errc::kNotFound: return "ENOENT";
    case Errc::kExists: return "EEXIST";
    case Errc::kCanceled: return "ECANCELED";
    case Errc::kTimedOut: return "ETIMEDOUT";
    case Errc::kNoSpace: return "ENOSPC";
    case Errc::kIo: return "EIO";
    case Errc::kInvalid: return "EINVAL";
    case Errc::kAgain: return "EAGAIN";
    case Errc::kBusy: return "EBUSY";
    case Errc::kRange: return "ERANGE";
    case Errc::kNameTooLong: return "ENAMETOOLONG";
    case Errc::kStale: return "ESTALE";
    case Errc::kNotSupported: return "EOPNOTSUPP";
    case Errc::kPermission: return "EPERM";
    case Errc::kConnReset: return "ECONNRESET";
    case Errc::kShutdown: return "ESHUTDOWN";
    case Errc::kCorrupt: return "EBADMSG";
    case Errc::kInternal: return "EINTERNAL";
  }
  return "EUNKNOWN";
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  if (!message_.empty()) {
    m += ": ";
    m += message_;
  }
  return Status(code_, std::move(m));
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s(errc_name(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace cairn
