// Compound op builders, reply decoding, error mapping and list cursors: the
// parts of the client library that need no cluster.
#include <cstring>

#include "client/internal/cluster_impl.h"
#include "client/rados.h"

namespace cairn::client {

using msg::OsdOpCode;
using msg::OsdSubOp;

namespace {
OsdSubOp sub(OsdOpCode code, uint64_t off = 0, uint64_t len = 0) {
  OsdSubOp op;
  op.code = code;
  op.off = off;
  op.len = len;
  return op;
}
OsdSubOp named(OsdOpCode code, const std::string& name) {
  OsdSubOp op = sub(code);
  op.name = name;
  return op;
}
}  // namespace

Status status_from_errno(int32_t neg_errno, const std::string& context) {
  if (neg_errno >= 0) return {};
  int e = -neg_errno;
  Errc code;
  switch (e) {
    case ENOENT: code = Errc::kNotFound; break;
    case ENODATA: code = Errc::kNotFound; break;  // an absent xattr
    case EEXIST: code = Errc::kExists; break;
    case ECANCELED: code = Errc::kCanceled; break;
    case ETIMEDOUT: code = Errc::kTimedOut; break;
    case ENOSPC: code = Errc::kNoSpace; break;
    case EDQUOT: code = Errc::kNoSpace; break;
    case EIO: code = Errc::kIo; break;
    case EINVAL: code = Errc::kInvalid; break;
    case EAGAIN: code = Errc::kAgain; break;
    case EBUSY: code = Errc::kBusy; break;
    case ERANGE: code = Errc::kRange; break;
    case EFBIG: code = Errc::kRange; break;
    case EOPNOTSUPP: code = Errc::kNotSupported; break;
    case EPERM: code = Errc::kPermission; break;
    case EACCES: code = Errc::kPermission; break;
    case ECONNRESET: code = Errc::kConnReset; break;
    case ESHUTDOWN: code = Errc::kShutdown; break;
    case EBADMSG: code = Errc::kCorrupt; break;
    case ENAMETOOLONG: code = Errc::kNameTooLong; break;
    case ESTALE: code = Errc::kStale; break;
    default: code = Errc::kInternal; break;
  }
  std::string text = std::strerror(e);
  if (code == Errc::kInternal) text = "errno " + std::to_string(e) + " (" + text + ")";
  return Status(code, context.empty() ? text : context + ": " + text);
}

// ---- builders ----

size_t ObjectOperation::add(OsdSubOp op, BufferList indata) {
  msg::OsdOpMsg tmp;
  tmp.flags = flags_;
  tmp.add(std::move(op), data_, std::move(indata));
  flags_ = tmp.flags;
  ops_.push_back(std::move(tmp.ops.back()));
  return ops_.size() - 1;
}

void ObjectOperation::add_cmpxattr(const std::string& name, BufferList value, bool absent_ok) {
  OsdSubOp op = named(OsdOpCode::kCmpXattr, name);
  if (absent_ok) op.flags |= msg::kCmpAbsentOk;
  add(std::move(op), std::move(value));
}
void ObjectOperation::add_assert_version(uint64_t version) { add(sub(OsdOpCode::kAssertVersion, version)); }
void ObjectOperation::add_assert_exists() { add(sub(OsdOpCode::kAssertExists)); }

ObjectOperation watch_op(OsdOpCode code, uint64_t off, BufferList indata) {
  ObjectOperation op;
  op.add(sub(code, off), std::move(indata));
  return op;
}

ObjectOperation notify_ack_op(uint64_t notify_id, uint64_t cookie, BufferList reply) {
  ObjectOperation op;
  op.add(sub(OsdOpCode::kNotifyAck, notify_id, cookie), std::move(reply));
  return op;
}

WriteOp& WriteOp::create(bool exclusive) {
  OsdSubOp op = sub(OsdOpCode::kCreate);
  if (exclusive) op.flags |= msg::kCreateExclusive;
  add(std::move(op));
  return *this;
}
WriteOp& WriteOp::write(uint64_t off, BufferList data) {
  uint64_t len = data.size();  // before the move: argument order is unspecified
  add(sub(OsdOpCode::kWrite, off, len), std::move(data));
  return *this;
}
WriteOp& WriteOp::write_full(BufferList data) {
  uint64_t len = data.size();  // before the move: argument order is unspecified
  add(sub(OsdOpCode::kWriteFull, 0, len), std::move(data));
  return *this;
}
WriteOp& WriteOp::append(BufferList data) {
  uint64_t len = data.size();  // before the move: argument order is unspecified
  add(sub(OsdOpCode::kAppend, 0, len), std::move(data));
  return *this;
}
WriteOp& WriteOp::truncate(uint64_t size) {
  add(sub(OsdOpCode::kTruncate, size));
  return *this;
}
WriteOp& WriteOp::zero(uint64_t off, uint64_t len) {
  add(sub(OsdOpCode::kZero, off, len));
  return *this;
}
WriteOp& WriteOp::remove() {
  add(sub(OsdOpCode::kRemove));
  return *this;
}
WriteOp& WriteOp::setxattr(const std::string& name, BufferList value) {
  add(named(OsdOpCode::kSetXattr, name), std::move(value));
  return *this;
}
WriteOp& WriteOp::rmxattr(const std::string& name) {
  add(named(OsdOpCode::kRmXattr, name));
  return *this;
}
WriteOp& WriteOp::omap_set(std::map<std::string, BufferList> kvs) {
  OsdSubOp op = sub(OsdOpCode::kOmapSetKeys);
  op.kvs = std::move(kvs);
  add(std::move(op));
  return *this;
}
WriteOp& WriteOp::omap_rm_keys(std::vector<std::string> keys) {
  OsdSubOp op = sub(OsdOpCode::kOmapRmKeys);
  op.keys = std::move(keys);
  add(std::move(op));
  return *this;
}
WriteOp& WriteOp::omap_rm_range(const std::string& first, const std::string& last) {
  OsdSubOp op = named(OsdOpCode::kOmapRmRange, first);
  op.name2 = last;
  add(std::move(op));
  return *this;
}
WriteOp& WriteOp::omap_clear() {
  add(sub(OsdOpCode::kOmapClear));
  return *this;
}
WriteOp& WriteOp::omap_set_header(BufferList header) {
  add(sub(OsdOpCode::kOmapSetHeader), std::move(header));
  return *this;
}
WriteOp& WriteOp::cmpxattr(const std::string& name, BufferList value, bool absent_ok) {
  add_cmpxattr(name, std::move(value), absent_ok);
  return *this;
}
WriteOp& WriteOp::assert_version(uint64_t version) {
  add_assert_version(version);
  return *this;
}
WriteOp& WriteOp::assert_exists() {
  add_assert_exists();
  return *this;
}

size_t ReadOp::read(uint64_t off, uint64_t len) { return add(sub(OsdOpCode::kRead, off, len)); }
size_t ReadOp::stat() { return add(sub(OsdOpCode::kStat)); }
size_t ReadOp::getxattr(const std::string& name) { return add(named(OsdOpCode::kGetXattr, name)); }
size_t ReadOp::getxattrs() { return add(sub(OsdOpCode::kGetXattrs)); }
size_t ReadOp::omap_get_vals(const std::string& start_after, const std::string& prefix, uint64_t max) {
  OsdSubOp op = named(OsdOpCode::kOmapGetVals, start_after);
  op.name2 = prefix;
  op.len = max;
  return add(std::move(op));
}
size_t ReadOp::omap_get_by_keys(std::vector<std::string> keys) {
  OsdSubOp op = sub(OsdOpCode::kOmapGetByKeys);
  op.keys = std::move(keys);
  return add(std::move(op));
}
size_t ReadOp::omap_get_header() { return add(sub(OsdOpCode::kOmapGetHeader)); }
size_t ReadOp::cmpxattr(const std::string& name, BufferList value, bool absent_ok) {
  add_cmpxattr(name, std::move(value), absent_ok);
  return size() - 1;
}
size_t ReadOp::assert_version(uint64_t version) {
  add_assert_version(version);
  return size() - 1;
}
size_t ReadOp::assert_exists() {
  add_assert_exists();
  return size() - 1;
}

// ---- reply decoding ----

namespace {
template <typename T>
Result<T> decode_out(const OpReply& r, size_t i) {
  if (i >= r.outdata.size()) return Status(Errc::kInvalid, "no sub-op result " + std::to_string(i));
  CAIRN_RETURN_IF_ERROR(r.sub_status(i));
  auto v = decode_from<T>(r.outdata[i]);
  if (!v.ok()) return v.status().with_context("output of sub-op " + std::to_string(i));
  return v;
}
}  // namespace

Status OpReply::sub_status(size_t i) const {
  if (i >= rvals.size()) return Status(Errc::kInvalid, "no sub-op result " + std::to_string(i));
  return status_from_errno(rvals[i]);
}

Result<BufferList> OpReply::data(size_t i) const {
  if (i >= outdata.size()) return Status(Errc::kInvalid, "no sub-op result " + std::to_string(i));
  CAIRN_RETURN_IF_ERROR(sub_status(i));
  return outdata[i];
}

Result<ObjectStat> OpReply::stat(size_t i) const {
  CAIRN_ASSIGN_OR_RETURN(msg::StatOut s, decode_out<msg::StatOut>(*this, i));
  return ObjectStat{s.size, s.mtime_ns, s.version};
}
Result<std::map<std::string, BufferList>> OpReply::kv_map(size_t i) const {
  return decode_out<std::map<std::string, BufferList>>(*this, i);
}
Result<msg::OmapOut> OpReply::omap(size_t i) const { return decode_out<msg::OmapOut>(*this, i); }
Result<msg::NotifyOut> OpReply::notify(size_t i) const { return decode_out<msg::NotifyOut>(*this, i); }
Result<msg::PgListOut> OpReply::pg_list(size_t i) const { return decode_out<msg::PgListOut>(*this, i); }
Result<msg::ScrubOut> OpReply::scrub(size_t i) const { return decode_out<msg::ScrubOut>(*this, i); }

// ---- list cursor ----

namespace {
// Escapes ':' and '%' so the printed cursor splits unambiguously.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == ':' || static_cast<unsigned char>(c) < 0x20) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}
Result<std::string> unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return Status(Errc::kInvalid, "bad escape in cursor");
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return Status(Errc::kInvalid, "bad escape in cursor");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}
bool parse_u32(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}
}  // namespace

std::string ListCursor::to_string() const {
  if (at_end) return "end";
  return std::to_string(pg) + ":" + std::to_string(pos.hash) + ":" + escape(pos.nspace) + ":" +
         escape(pos.name);
}

Result<ListCursor> ListCursor::parse(const std::string& s) {
  ListCursor c;
  if (s == "end") {
    c.at_end = true;
    return c;
  }
  std::vector<std::string_view> parts;
  std::string_view rest = s;
  for (int i = 0; i < 3; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return Status(Errc::kInvalid, "bad list cursor '" + s + "'");
    parts.push_back(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  }
  parts.push_back(rest);
  if (!parse_u32(parts[0], c.pg) || !parse_u32(parts[1], c.pos.hash))
    return Status(Errc::kInvalid, "bad list cursor '" + s + "'");
  CAIRN_ASSIGN_OR_RETURN(c.pos.nspace, unescape(parts[2]));
  CAIRN_ASSIGN_OR_RETURN(c.pos.name, unescape(parts[3]));
  return c;
}

}  // namespace cairn::client
