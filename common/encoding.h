// Versioned, little-endian encoding (the one wire and on-disk encoding of Cairn).
//
// Scalars are fixed-width little-endian. Strings and containers carry a u32 count.
// Every struct is framed as:
//
//     u8 version | u8 compat_version | u32 body_length | body
//
// A decoder that knows versions up to V accepts a struct whose compat_version <= V,
// reads the fields it knows and skips the rest of the body, so newer encoders can
// add fields at the end. See docs/formats.md.
//
// Decoding never trusts a length: every read is bounds-checked against the
// innermost enclosing struct, counts are checked against the bytes left before
// anything is allocated, and the first failure makes the Decoder "failed" (later
// reads return zero values and do nothing). Callers check status() once at the end.
//
// Types opt in with members `void encode(Encoder&) const` and `void decode(Decoder&)`,
// or with free functions `encode(Encoder&, const T&)` / `decode(Decoder&, T&)`.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "common/status.h"

namespace cairn {

// Largest body or count a decoder accepts: a named bound so that no length from
// the wire can make us allocate without limit (messages are bounded separately).
inline constexpr uint32_t kMaxEncodedLength = 1u << 30;

class Encoder {
 public:
  explicit Encoder(BufferList& out) : out_(out) {}

  void u8(uint8_t v) { raw(&v, 1); }
  void u16(uint16_t v) { put_le(v); }
  void u32(uint32_t v) { put_le(v); }
  void u64(uint64_t v) { put_le(v); }
  void i32(int32_t v) { put_le(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { put_le(static_cast<uint64_t>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void f64(double v) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    u64(b);
  }
  // u32 length + bytes.
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  // u32 length + bytes, zero-copy.
  void bytes(const BufferList& bl) {
    u32(static_cast<uint32_t>(bl.size()));
    out_.append(bl);
  }
  void raw(const void* p, size_t n) { out_.append(p, n); }

  // Generic: members, free functions, scalars and standard containers.
  template <typename T>
  void put(const T& v);

  struct StructMark {
    char* length_at;
    size_t body_start;
  };
  StructMark begin_struct(uint8_t version, uint8_t compat_version) {
    u8(version);
    u8(compat_version);
    StructMark m{out_.append_hole(4), 0};
    m.body_start = out_.size();
    return m;
  }
  void end_struct(const StructMark& m) {
    uint32_t len = static_cast<uint32_t>(out_.size() - m.body_start);
    for (int i = 0; i < 4; ++i) m.length_at[i] = static_cast<char>(len >> (8 * i));
  }

  BufferList& out() { return out_; }

 private:
  template <typename U>
  void put_le(U v) {
    unsigned char b[sizeof(U)];
    for (size_t i = 0; i < sizeof(U); ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    raw(b, sizeof(U));
  }
  BufferList& out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  Decoder(const char* p, size_t n) : p_(p), end_(p + n) {}
  // Decodes `backing` (which must outlive the decoder): byte strings decoded as
  // BufferLists share its memory instead of being copied (payloads stay zero-copy).
  explicit Decoder(const BufferPtr& backing)
      : p_(backing.data()), end_(backing.data() + backing.size()), backing_(&backing) {}

  uint8_t u8() { return get_le<uint8_t>(); }
  uint16_t u16() { return get_le<uint16_t>(); }
  uint32_t u32() { return get_le<uint32_t>(); }
  uint64_t u64() { return get_le<uint64_t>(); }
  int32_t i32() { return static_cast<int32_t>(get_le<uint32_t>()); }
  int64_t i64() { return static_cast<int64_t>(get_le<uint64_t>()); }
  bool boolean() {
    uint8_t v = u8();
    if (v > 1) fail("boolean out of range");
    return v == 1;
  }
  double f64() {
    uint64_t b = u64();
    double v;
    std::memcpy(&v, &b, 8);
    return v;
  }
  std::string str() {
    uint32_t n = u32();
    if (!check(n, "string")) return {};
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  // A u32-length-prefixed byte string: a large one is shared with the backing
  // buffer if there is one; small ones are copied into an allocation of their own
  // size, so a small value kept for long (an xattr in a cache) pins neither a whole
  // message's buffer nor an append segment many times its size.
  static constexpr uint32_t kShareMinBytes = kPayloadMinBytes;
  BufferList bytes() {
    uint32_t n = u32();
    if (!check(n, "bytes")) return {};
    BufferList bl;
    if (backing_ && n >= kShareMinBytes)
      bl.append(backing_->slice(static_cast<size_t>(p_ - backing_->data()), n));
    else if (n > 0)
      bl.append(BufferPtr::copy_of(p_, n));
    p_ += n;
    return bl;
  }
  // A view of the next n bytes (valid while the input lives).
  std::string_view raw(size_t n) {
    if (!check(n, "raw bytes")) return {};
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }
  // Reads a count of elements each at least `min_elem_size` bytes long, checking
  // that many could fit in what is left (so a corrupt count cannot make us allocate).
  uint32_t count(size_t min_elem_size = 1) {
    uint32_t n = u32();
    if (failed()) return 0;
    if (n > kMaxEncodedLength || static_cast<size_t>(n) * min_elem_size > remaining()) {
      fail("element count exceeds input");
      return 0;
    }
    return n;
  }

  template <typename T>
  void get(T& v);
  template <typename T>
  T get() {
    T v{};
    get(v);
    return v;
  }

  struct StructScope {
    uint8_t version = 0;
    const char* saved_end = nullptr;
    const char* body_end = nullptr;
  };
  // Opens a struct; fails if its compat_version is newer than `max_known_version`.
  StructScope begin_struct(uint8_t max_known_version, const char* what = "struct");
  // Skips unread (newer) fields and restores the enclosing bound.
  void end_struct(const StructScope& s);

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool failed() const { return !status_.ok(); }
  const Status& status() const { return status_; }
  void fail(std::string_view why);
  // Out of line: building the message inline trips GCC 12's -Warray-bounds (PR 105329).
  void fail_truncated(const char* what);
  // Status of a whole decode: also fails if input is left over when `exact`.
  Status finish(bool exact = true);

 private:
  bool check(size_t n, const char* what) {
    if (failed()) return false;
    if (n > remaining()) {
      fail_truncated(what);
      return false;
    }
    return true;
  }
  template <typename U>
  U get_le() {
    if (!check(sizeof(U), "integer")) return 0;
    U v = 0;
    for (size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<unsigned char>(p_[i])) << (8 * i);
    p_ += sizeof(U);
    return v;
  }

  const char* p_;
  const char* end_;
  const BufferPtr* backing_ = nullptr;
  Status status_;
};

// ---- generic dispatch ----------------------------------------------------

namespace encoding_detail {
template <typename T>
concept HasMemberEncode = requires(const T& t, Encoder& e) {
  t.encode(e);
};
template <typename T>
concept HasMemberDecode = requires(T& t, Decoder& d) {
  t.decode(d);
};
// Integers whose in-memory bytes are their encoding (little-endian hosts).
template <typename T>
concept BulkScalar =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && std::endian::native == std::endian::little;
template <typename T>
struct IsVector : std::false_type {};
template <typename T, typename A>
struct IsVector<std::vector<T, A>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <typename K, typename V, typename H, typename E, typename A>
struct IsMap<std::unordered_map<K, V, H, E, A>> : std::true_type {};
template <typename T>
struct IsSet : std::false_type {};
template <typename T, typename C, typename A>
struct IsSet<std::set<T, C, A>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsPair : std::false_type {};
template <typename A, typename B>
struct IsPair<std::pair<A, B>> : std::true_type {};
}  // namespace encoding_detail

template <typename T>
void Encoder::put(const T& v) {
  using namespace encoding_detail;
  if constexpr (HasMemberEncode<T>) {
    v.encode(*this);
  } else if constexpr (std::is_same_v<T, bool>) {
    boolean(v);
  } else if constexpr (std::is_enum_v<T>) {
    put(static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1)
      u8(static_cast<uint8_t>(v));
    else if constexpr (sizeof(T) == 2)
      u16(static_cast<uint16_t>(v));
    else if constexpr (sizeof(T) == 4)
      u32(static_cast<uint32_t>(v));
    else
      u64(static_cast<uint64_t>(v));
  } else if constexpr (std::is_same_v<T, double>) {
    f64(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    str(v);
  } else if constexpr (std::is_same_v<T, BufferList>) {
    bytes(v);
  } else if constexpr (IsPair<T>::value) {
    put(v.first);
    put(v.second);
  } else if constexpr (IsOptional<T>::value) {
    boolean(v.has_value());
    if (v) put(*v);
  } else if constexpr (IsVector<T>::value && BulkScalar<typename T::value_type>) {
    // Little-endian integers (checksum arrays in extent maps): one copy, not one append each.
    u32(static_cast<uint32_t>(v.size()));
    raw(v.data(), v.size() * sizeof(typename T::value_type));
  } else if constexpr (IsVector<T>::value || IsMap<T>::value || IsSet<T>::value) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& x : v) put(x);
  } else {
    encode(*this, v);  // free function found by ADL
  }
}

template <typename T>
void Decoder::get(T& v) {
  using namespace encoding_detail;
  if constexpr (HasMemberDecode<T>) {
    v.decode(*this);
  } else if constexpr (std::is_same_v<T, bool>) {
    v = boolean();
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> u{};
    get(u);
    v = static_cast<T>(u);
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) == 1)
      v = static_cast<T>(u8());
    else if constexpr (sizeof(T) == 2)
      v = static_cast<T>(u16());
    else if constexpr (sizeof(T) == 4)
      v = static_cast<T>(u32());
    else
      v = static_cast<T>(u64());
  } else if constexpr (std::is_same_v<T, double>) {
    v = f64();
  } else if constexpr (std::is_same_v<T, std::string>) {
    v = str();
  } else if constexpr (std::is_same_v<T, BufferList>) {
    v = bytes();
  } else if constexpr (IsPair<T>::value) {
    get(v.first);
    get(v.second);
  } else if constexpr (IsOptional<T>::value) {
    if (boolean()) {
      typename T::value_type x{};
      get(x);
      v = std::move(x);
    } else {
      v.reset();
    }
  } else if constexpr (IsVector<T>::value && BulkScalar<typename T::value_type>) {
    uint32_t n = count(sizeof(typename T::value_type));
    v.resize(n);
    if (n)
      std::memcpy(v.data(), raw(n * sizeof(typename T::value_type)).data(),
                  n * sizeof(typename T::value_type));
  } else if constexpr (IsVector<T>::value) {
    uint32_t n = count();
    v.clear();
    v.reserve(n);
    for (uint32_t i = 0; i < n && !failed(); ++i) {
      typename T::value_type x{};
      get(x);
      v.push_back(std::move(x));
    }
  } else if constexpr (IsMap<T>::value) {
    uint32_t n = count();
    v.clear();
    for (uint32_t i = 0; i < n && !failed(); ++i) {
      typename T::key_type k{};
      typename T::mapped_type m{};
      get(k);
      get(m);
      v.emplace(std::move(k), std::move(m));
    }
  } else if constexpr (IsSet<T>::value) {
    uint32_t n = count();
    v.clear();
    for (uint32_t i = 0; i < n && !failed(); ++i) {
      typename T::value_type x{};
      get(x);
      v.insert(std::move(x));
    }
  } else {
    decode(*this, v);  // free function found by ADL
  }
}

// Encodes one value into a fresh BufferList.
template <typename T>
BufferList encode_to_buffer(const T& v) {
  BufferList bl;
  Encoder e(bl);
  e.put(v);
  return bl;
}

// Decodes one value that must span all of `in`.
template <typename T>
Result<T> decode_from(std::string_view in) {
  Decoder d(in);
  T v{};
  d.get(v);
  Status st = d.finish(true);
  if (!st.ok()) return st;
  return v;
}

template <typename T>
Result<T> decode_from(const BufferList& in) {
  BufferPtr p = in.contiguous();  // no copy for a single segment (a received message's)
  Decoder d(p);
  T v{};
  d.get(v);
  Status st = d.finish(true);
  if (!st.ok()) return st;
  return v;
}

}  // namespace cairn
