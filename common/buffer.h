// Buffers: reference-counted memory shared without copying.
//
//  BufferPtr  — a view (offset, length) into one reference-counted allocation.
//  BufferList — an ordered list of BufferPtrs: zero-copy append and slice, gather
//               into iovecs for writev/io_uring, copy out only when asked.
//
// Thread-safety: a BufferList is owned by one thread at a time; the allocations
// it points to are immutable once handed to another list (refcounts are atomic),
// so slices may travel between threads. Only the list that allocated a tail
// segment appends into its spare capacity; copies of the list never do.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// Alignment required by O_DIRECT on every device we target.
inline constexpr size_t kDirectIoAlign = 4096;

// Payload-sized values: a Decoder shares byte strings at least this long with the
// buffer they were received in (smaller ones are copied), so only such slices can
// lie in a pooled buffer and carry remembered block crcs.
inline constexpr size_t kPayloadMinBytes = 64 * 1024;
// Allocations at least this large come from the pool below.
inline constexpr size_t kPooledMinBytes = 1 << 20;

// Large allocations (payloads: >= 1 MiB) are page-aligned mappings in whole MiB.
// Freed ones are kept, already faulted in, for the next payload of that size, up
// to a process-wide budget of retained bytes; beyond it they are unmapped. A
// 4 MiB write then costs neither an mmap/munmap pair nor 1024 page faults per hop.
struct BufferPoolStats {
  uint64_t retained_bytes = 0;  // freed mappings kept for reuse
  uint64_t limit_bytes = 0;
  uint64_t hits = 0;    // large allocations served from the pool
  uint64_t misses = 0;  // large allocations that mapped fresh memory
};
// Sets the budget of retained bytes (0: keep none). Default 64 MiB.
void set_buffer_pool_limit(uint64_t bytes);
BufferPoolStats buffer_pool_stats();
// Call every few seconds: unmaps every retained buffer if no payload-sized
// allocation was made since the previous call, so that the memory goes back
// while only small I/O runs (an OSD serving 4 KiB ops after a burst of 4 MiB
// writes). Returns the bytes unmapped.
uint64_t trim_idle_buffer_pool();

// Block crcs remembered with a pooled buffer, so that the bytes are checksummed
// once however many times they are sent and stored: the messenger computes the
// crc32c of each 4 KiB block of a large received segment (and combines them for
// the frame's crc); a replica forwarding the payload and the store writing it reuse
// them. `crcs[i]` is crc32c(0, ...) of the 4 KiB at `start + i * 4096`; `start`
// must be the beginning of a pooled allocation. Forgotten when the buffer is freed,
// and only meaningful because a buffer is immutable once filled (see above).
void set_block_crcs(const char* start, std::vector<uint32_t> crcs);
// The crcs of the `n` blocks at `p`, if remembered (p 4 KiB-aligned from the
// start of a pooled buffer whose crcs were set). Fills `out` (resized to n).
bool get_block_crcs(const char* p, size_t n, std::vector<uint32_t>& out);

class BufferPtr {
 public:
  BufferPtr() = default;

  // Uninitialised bytes (the caller fills them).
  static BufferPtr create(size_t len);
  // Uninitialised bytes at an address aligned to `align` (a power of two), for O_DIRECT.
  static BufferPtr create_aligned(size_t len, size_t align = kDirectIoAlign);
  static BufferPtr zeroed(size_t len, size_t align = 0);
  static BufferPtr copy_of(const void* data, size_t len);
  static BufferPtr copy_of(std::string_view s) { return copy_of(s.data(), s.size()); }

  char* data() { return raw_.get() + off_; }
  const char* data() const { return raw_.get() + off_; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  std::string_view view() const { return {data(), len_}; }

  // A view of [off, off+len) of this view; bounds are clamped to this view.
  BufferPtr slice(size_t off, size_t len) const;
  // True if both views point into the same allocation, back to back.
  bool is_followed_by(const BufferPtr& next) const { return raw_ == next.raw_ && off_ + len_ == next.off_; }
  const std::shared_ptr<char>& raw() const { return raw_; }
  size_t raw_offset() const { return off_; }

 private:
  friend class BufferList;
  BufferPtr(std::shared_ptr<char> raw, size_t off, size_t len) : raw_(std::move(raw)), off_(off), len_(len) {}
  std::shared_ptr<char> raw_;
  size_t off_ = 0;
  size_t len_ = 0;
};

class BufferList {
 public:
  BufferList() = default;
  explicit BufferList(BufferPtr p) { append(std::move(p)); }
  // Copies do not inherit the tail's spare capacity (only one list may write into it).
  BufferList(const BufferList& o) : segs_(o.segs_), len_(o.len_) {}
  BufferList& operator=(const BufferList& o) {
    if (this != &o) {
      segs_ = o.segs_;
      len_ = o.len_;
      tail_.reset();
      tail_cap_ = 0;
      tail_used_ = 0;
    }
    return *this;
  }
  BufferList(BufferList&& o) noexcept { *this = std::move(o); }
  BufferList& operator=(BufferList&& o) noexcept {
    segs_ = std::move(o.segs_);
    len_ = o.len_;
    tail_ = std::move(o.tail_);
    tail_cap_ = o.tail_cap_;
    tail_used_ = o.tail_used_;
    o.segs_.clear();
    o.len_ = o.tail_cap_ = o.tail_used_ = 0;
    return *this;
  }

  static BufferList copy_of(std::string_view s);

  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  const std::vector<BufferPtr>& segments() const { return segs_; }
  size_t num_segments() const { return segs_.size(); }

  // Zero-copy.
  void append(BufferPtr p);
  void append(const BufferList& other);
  void append(BufferList&& other);
  // Copies the bytes (into the tail's spare capacity when there is some).
  void append(const void* data, size_t len);
  void append(std::string_view s) { append(s.data(), s.size()); }
  // Reserves `len` contiguous bytes at the end and returns them for the caller to
  // fill (used to patch a length after encoding a body). Valid while the list lives.
  char* append_hole(size_t len);

  void clear();
  // Drops the first `len` bytes (zero-copy).
  void trim_front(size_t len);

  // Zero-copy view of [off, off+len); clamped to the list.
  BufferList slice(size_t off, size_t len) const;
  // Copies [off, off+len) into dst; returns the number of bytes copied.
  size_t copy_out(size_t off, size_t len, void* dst) const;
  std::string to_string() const;
  // One contiguous view: the single segment itself, or a copy when there are several.
  BufferPtr contiguous() const;
  // A copy in one allocation of exactly length() bytes, for a value kept for long
  // (a cache entry): it pins neither a larger append segment it was encoded into
  // nor the message it was decoded from.
  BufferList copy_exact() const;
  // Makes the list one segment (copying if it had several) and returns it.
  const BufferPtr& rebuild();
  // Like rebuild(), with the segment aligned to `align` (for O_DIRECT).
  const BufferPtr& rebuild_aligned(size_t align = kDirectIoAlign);
  bool is_aligned(size_t align = kDirectIoAlign) const;

  // Gathers the segments as iovecs for writev/io_uring (appends to `out`).
  void to_iovecs(std::vector<iovec>& out) const;

  bool operator==(const BufferList& o) const;
  bool operator==(std::string_view s) const;

 private:
  std::vector<BufferPtr> segs_;
  size_t len_ = 0;
  // The allocation this list may append into, and its capacity.
  std::shared_ptr<char> tail_;
  size_t tail_cap_ = 0;
  size_t tail_used_ = 0;  // bytes of tail_ already handed out
};

}  // namespace cairn
