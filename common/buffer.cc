#include "common/buffer.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

namespace cairn {
namespace {

// Smallest allocation made for copying appends: keeps small encodes in few segments.
constexpr size_t kMinAppendSegment = 4096;

constexpr size_t kPoolClassBytes = 1 << 20;

class LargeBufferPool {
 public:
  char* get(size_t mapped) {
    {
      std::lock_guard lock(mu_);
      auto it = free_.find(mapped);
      if (it != free_.end() && !it->second.empty()) {
        char* p = it->second.back();
        it->second.pop_back();
        retained_ -= mapped;
        ++hits_;
        live_.emplace(p, mapped);
        return p;
      }
      ++misses_;
    }
    void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    std::lock_guard lock(mu_);
    live_.emplace(static_cast<char*>(p), mapped);
    return static_cast<char*>(p);
  }
  void put(char* p, size_t mapped) {
    {
      std::lock_guard lock(mu_);
      live_.erase(p);
      crcs_.erase(p);
      if (retained_ + mapped <= limit_) {
        free_[mapped].push_back(p);
        retained_ += mapped;
        return;
      }
    }
    ::munmap(p, mapped);
  }
  void set_limit(uint64_t bytes) {
    std::vector<std::pair<char*, size_t>> drop;
    {
      std::lock_guard lock(mu_);
      limit_ = bytes;
      for (auto& [mapped, v] : free_) {
        while (retained_ > limit_ && !v.empty()) {
          drop.emplace_back(v.back(), mapped);
          v.pop_back();
          retained_ -= mapped;
        }
      }
    }
    for (auto [p, mapped] : drop) ::munmap(p, mapped);
  }
  void set_crcs(const char* start, std::vector<uint32_t> crcs) {
    std::lock_guard lock(mu_);
    auto it = live_.find(start);
    if (it == live_.end() || crcs.size() * kDirectIoAlign > it->second) return;  // not ours: ignored
    crcs_[start] = std::move(crcs);
  }
  bool get_crcs(const char* p, size_t n, std::vector<uint32_t>& out) {
    std::lock_guard lock(mu_);
    auto it = crcs_.upper_bound(p);
    if (it == crcs_.begin()) return false;
    --it;
    size_t off = static_cast<size_t>(p - it->first);
    if (off % kDirectIoAlign != 0 || off / kDirectIoAlign + n > it->second.size()) return false;
    auto first = it->second.begin() + static_cast<std::ptrdiff_t>(off / kDirectIoAlign);
    out.assign(first, first + static_cast<std::ptrdiff_t>(n));
    return true;
  }
  BufferPoolStats stats() {
    std::lock_guard lock(mu_);
    return BufferPoolStats{retained_, limit_, hits_, misses_};
  }
  uint64_t trim_idle() {
    std::vector<std::pair<char*, size_t>> drop;
    {
      std::lock_guard lock(mu_);
      uint64_t gets = hits_ + misses_;
      if (gets != gets_at_trim_) {
        gets_at_trim_ = gets;
        return 0;
      }
      for (auto& [mapped, v] : free_) {
        for (char* p : v) drop.emplace_back(p, mapped);
        retained_ -= mapped * v.size();
        v.clear();
      }
    }
    uint64_t bytes = 0;
    for (auto [p, mapped] : drop) {
      ::munmap(p, mapped);
      bytes += mapped;
    }
    return bytes;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<char*>> free_;  // by mapping length
  std::unordered_map<const char*, size_t> live_;         // handed out: start -> mapping length
  std::map<const char*, std::vector<uint32_t>> crcs_;    // block crcs of live buffers
  uint64_t retained_ = 0;
  uint64_t limit_ = 64ull << 20;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  uint64_t gets_at_trim_ = 0;  // hits_ + misses_ at the last trim_idle()
};

// Never destroyed: buffers may be released during static destruction.
LargeBufferPool& large_pool() {
  static auto* p = new LargeBufferPool;
  return *p;
}

std::shared_ptr<char> alloc_raw(size_t len, size_t align) {
  if (len >= kPooledMinBytes && align <= kDirectIoAlign) {
    size_t mapped = (len + kPoolClassBytes - 1) / kPoolClassBytes * kPoolClassBytes;
    return std::shared_ptr<char>(large_pool().get(mapped),
                                 [mapped](char* q) { large_pool().put(q, mapped); });
  }
  if (len == 0) len = 1;
  if (align <= alignof(std::max_align_t)) {
    char* p = static_cast<char*>(std::malloc(len));
    if (!p) throw std::bad_alloc();
    return std::shared_ptr<char>(p, [](char* q) { std::free(q); });
  }
  size_t rounded = (len + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<char>(static_cast<char*>(p), [](char* q) { std::free(q); });
}

}  // namespace

void set_buffer_pool_limit(uint64_t bytes) { large_pool().set_limit(bytes); }
uint64_t trim_idle_buffer_pool() { return large_pool().trim_idle(); }
BufferPoolStats buffer_pool_stats() { return large_pool().stats(); }
void set_block_crcs(const char* start, std::vector<uint32_t> crcs) {
  large_pool().set_crcs(start, std::move(crcs));
}
bool get_block_crcs(const char* p, size_t n, std::vector<uint32_t>& out) {
  return n > 0 && large_pool().get_crcs(p, n, out);
}

BufferPtr BufferPtr::create(size_t len) { return BufferPtr(alloc_raw(len, 0), 0, len); }

BufferPtr BufferPtr::create_aligned(size_t len, size_t align) {
  return BufferPtr(alloc_raw(len, align), 0, len);
}

BufferPtr BufferPtr::zeroed(size_t len, size_t align) {
  BufferPtr p(alloc_raw(len, align), 0, len);
  std::memset(p.data(), 0, len);
  return p;
}

BufferPtr BufferPtr::copy_of(const void* data, size_t len) {
  BufferPtr p = create(len);
  if (len) std::memcpy(p.data(), data, len);
  return p;
}

BufferPtr BufferPtr::slice(size_t off, size_t len) const {
  off = std::min(off, len_);
  len = std::min(len, len_ - off);
  return BufferPtr(raw_, off_ + off, len);
}

BufferList BufferList::copy_of(std::string_view s) {
  BufferList bl;
  if (!s.empty()) bl.append(BufferPtr::copy_of(s));
  return bl;
}

void BufferList::append(BufferPtr p) {
  if (p.empty()) return;
  len_ += p.size();
  if (!segs_.empty() && segs_.back().is_followed_by(p)) {
    segs_.back().len_ += p.len_;
    return;
  }
  segs_.push_back(std::move(p));
}

void BufferList::append(const BufferList& other) {
  for (const auto& s : other.segs_) append(s);
}

void BufferList::append(BufferList&& other) {
  if (segs_.empty() && !tail_) {
    *this = std::move(other);
    return;
  }
  for (auto& s : other.segs_) append(std::move(s));
  other.clear();
}

char* BufferList::append_hole(size_t len) {
  if (len == 0) return nullptr;
  if (tail_ && tail_cap_ - tail_used_ >= len && !segs_.empty()) {
    // Growing the last segment in place (the usual case while encoding): no new
    // BufferPtr, so no reference-count traffic per small append.
    BufferPtr& last = segs_.back();
    if (last.raw_.get() == tail_.get() && last.off_ + last.len_ == tail_used_) {
      char* p = tail_.get() + tail_used_;
      last.len_ += len;
      len_ += len;
      tail_used_ += len;
      return p;
    }
  }
  if (!tail_ || tail_cap_ - tail_used_ < len) {
    tail_cap_ = std::max(len, kMinAppendSegment);
    tail_ = alloc_raw(tail_cap_, 0);
    tail_used_ = 0;
  }
  char* p = tail_.get() + tail_used_;
  append(BufferPtr(tail_, tail_used_, len));
  tail_used_ += len;
  return p;
}

void BufferList::append(const void* data, size_t len) {
  if (len == 0) return;
  std::memcpy(append_hole(len), data, len);
}

void BufferList::clear() {
  segs_.clear();
  len_ = 0;
  tail_.reset();
  tail_cap_ = 0;
  tail_used_ = 0;
}

void BufferList::trim_front(size_t len) {
  len = std::min(len, len_);
  len_ -= len;
  size_t drop = 0;
  while (len > 0) {
    BufferPtr& s = segs_[drop];
    if (s.len_ <= len) {
      len -= s.len_;
      ++drop;
    } else {
      s.off_ += len;
      s.len_ -= len;
      len = 0;
    }
  }
  segs_.erase(segs_.begin(), segs_.begin() + static_cast<std::ptrdiff_t>(drop));
}

BufferList BufferList::slice(size_t off, size_t len) const {
  BufferList out;
  if (off >= len_) return out;
  len = std::min(len, len_ - off);
  for (const auto& s : segs_) {
    if (len == 0) break;
    if (off >= s.len_) {
      off -= s.len_;
      continue;
    }
    size_t take = std::min(len, s.len_ - off);
    out.append(s.slice(off, take));
    len -= take;
    off = 0;
  }
  return out;
}

size_t BufferList::copy_out(size_t off, size_t len, void* dst) const {
  char* d = static_cast<char*>(dst);
  size_t copied = 0;
  for (const auto& s : segs_) {
    if (len == 0) break;
    if (off >= s.len_) {
      off -= s.len_;
      continue;
    }
    size_t take = std::min(len, s.len_ - off);
    std::memcpy(d + copied, s.data() + off, take);
    copied += take;
    len -= take;
    off = 0;
  }
  return copied;
}

std::string BufferList::to_string() const {
  std::string s(len_, '\0');
  copy_out(0, len_, s.data());
  return s;
}

BufferPtr BufferList::contiguous() const {
  if (segs_.size() == 1) return segs_[0];
  BufferPtr p = BufferPtr::create(len_);
  copy_out(0, len_, p.data());
  return p;
}

BufferList BufferList::copy_exact() const {
  BufferList out;
  if (len_ == 0) return out;
  BufferPtr p = BufferPtr::create(len_);
  copy_out(0, len_, p.data());
  out.append(std::move(p));
  return out;
}

const BufferPtr& BufferList::rebuild() {
  if (segs_.size() != 1) {
    BufferPtr p = contiguous();
    clear();
    segs_.push_back(std::move(p));
    len_ = segs_.back().size();
  }
  return segs_.back();
}

bool BufferList::is_aligned(size_t align) const {
  for (const auto& s : segs_) {
    if (reinterpret_cast<uintptr_t>(s.data()) % align != 0 || s.size() % align != 0) return false;
  }
  return true;
}

const BufferPtr& BufferList::rebuild_aligned(size_t align) {
  if (segs_.size() != 1 || !is_aligned(align)) {
    size_t n = len_;
    BufferPtr p = BufferPtr::create_aligned(n, align);
    copy_out(0, n, p.data());
    clear();
    segs_.push_back(std::move(p));
    len_ = n;
  }
  return segs_.back();
}

void BufferList::to_iovecs(std::vector<iovec>& out) const {
  out.reserve(out.size() + segs_.size());
  for (const auto& s : segs_) {
    out.push_back(iovec{const_cast<char*>(s.data()), s.size()});
  }
}

bool BufferList::operator==(const BufferList& o) const {
  if (len_ != o.len_) return false;
  // Compare segment-wise without flattening either side.
  size_t ai = 0, aoff = 0, bi = 0, boff = 0, left = len_;
  while (left > 0) {
    const BufferPtr& a = segs_[ai];
    const BufferPtr& b = o.segs_[bi];
    size_t n = std::min(a.size() - aoff, b.size() - boff);
    if (std::memcmp(a.data() + aoff, b.data() + boff, n) != 0) return false;
    aoff += n;
    boff += n;
    left -= n;
    if (aoff == a.size()) ++ai, aoff = 0;
    if (boff == b.size()) ++bi, boff = 0;
  }
  return true;
}

bool BufferList::operator==(std::string_view s) const {
  if (len_ != s.size()) return false;
  size_t off = 0;
  for (const auto& seg : segs_) {
    if (std::memcmp(seg.data(), s.data() + off, seg.size()) != 0) return false;
    off += seg.size();
  }
  return true;
}

}  // namespace cairn
