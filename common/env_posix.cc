// The real environment: steady/system clocks, OS entropy, POSIX files.
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include "common/env.h"

namespace cairn {
namespace {

Errc errno_to_errc(int e) {
  switch (e) {
    case ENOENT: return Errc::kNotFound;
    case EEXIST: return Errc::kExists;
    case ENOSPC:
    case EDQUOT: return Errc::kNoSpace;
    case EIO: return Errc::kIo;
    case EINVAL: return Errc::kInvalid;
    case EACCES:
    case EPERM: return Errc::kPermission;
    case EBUSY: return Errc::kBusy;
    default: return Errc::kInternal;
  }
}

Status sys_error(const std::string& what) {
  int e = errno;
  return Status(errno_to_errc(e), what + ": " + std::strerror(e));
}

class RealClock final : public Clock {
 public:
  uint64_t now_ns() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  uint64_t wall_ns() const override {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }
};

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class OsRandom final : public Random {
 public:
  OsRandom() {
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != sizeof seed) seed = RealClock().now_ns();
    rng_ = std::make_unique<SeededRandom>(seed);
  }
  uint64_t next_u64() override {
    std::lock_guard lk(mu_);
    return rng_->next_u64();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<SeededRandom> rng_;  // guarded by mu_
};

class PosixFile final : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }
  Result<size_t> pread(uint64_t off, void* buf, size_t len) override {
    size_t done = 0;
    while (done < len) {
      ssize_t n = ::pread(fd_, static_cast<char*>(buf) + done, len - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("pread");
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }
  Status pwrite(uint64_t off, const void* buf, size_t len) override {
    size_t done = 0;
    while (done < len) {
      ssize_t n =
          ::pwrite(fd_, static_cast<const char*>(buf) + done, len - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("pwrite");
      done += static_cast<size_t>(n);
    }
    return {};
  }
  Status sync() override { return ::fdatasync(fd_) == 0 ? Status() : sys_error("fdatasync"); }
  Result<uint64_t> size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return sys_error("fstat");
    return static_cast<uint64_t>(st.st_size);
  }
  Status truncate(uint64_t len) override {
    return ::ftruncate(fd_, static_cast<off_t>(len)) == 0 ? Status() : sys_error("ftruncate");
  }

 private:
  int fd_;
};

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open dir " + dir);
  int r = ::fsync(fd);
  ::close(fd);
  return r == 0 ? Status() : sys_error("fsync dir " + dir);
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, const OpenOptions& o) override {
    int flags = O_CLOEXEC | (o.read_only ? O_RDONLY : O_RDWR);
    if (o.create) flags |= O_CREAT;
    if (o.exclusive) flags |= O_EXCL;
    if (o.direct) flags |= O_DIRECT;
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return sys_error("open " + path);
    return std::unique_ptr<File>(new PosixFile(fd));
  }
  Status mkdirs(const std::string& path) override {
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      cur = path.substr(0, pos);
      if (cur.empty()) continue;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + cur);
    }
    return {};
  }
  Status remove(const std::string& path) override {
    return ::unlink(path.c_str()) == 0 ? Status() : sys_error("unlink " + path);
  }
  Status rename(const std::string& from, const std::string& to) override {
    return ::rename(from.c_str(), to.c_str()) == 0 ? Status() : sys_error("rename " + from);
  }
  Result<bool> exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return sys_error("stat " + path);
  }
  Result<std::vector<std::string>> list(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return sys_error("opendir " + dir);
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(std::move(n));
    }
    ::closedir(d);
    return out;
  }
  Status write_file_atomic(const std::string& path, std::string_view contents) override {
    std::string tmp = path + ".tmp";
    CAIRN_ASSIGN_OR_RETURN(auto f, open(tmp, OpenOptions{.create = true}));
    CAIRN_RETURN_IF_ERROR(f->truncate(0));
    CAIRN_RETURN_IF_ERROR(f->pwrite(0, contents.data(), contents.size()));
    CAIRN_RETURN_IF_ERROR(f->sync());
    f.reset();
    CAIRN_RETURN_IF_ERROR(rename(tmp, path));
    size_t slash = path.rfind('/');
    return fsync_dir(slash == std::string::npos ? "." : path.substr(0, slash));
  }
  Result<std::string> read_file(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(auto f, open(path, OpenOptions{.read_only = true}));
    CAIRN_ASSIGN_OR_RETURN(uint64_t n, f->size());
    std::string s(n, '\0');
    CAIRN_ASSIGN_OR_RETURN(size_t got, f->pread(0, s.data(), n));
    s.resize(got);
    return s;
  }
};

}  // namespace

uint64_t Random::uniform(uint64_t bound) {
  // Lemire's multiply-shift with rejection: unbiased.
  uint64_t x = next_u64();
  __uint128_t m = static_cast<__uint128_t>(x) * bound;
  uint64_t l = static_cast<uint64_t>(m);
  if (l < bound) {
    uint64_t t = -bound % bound;
    while (l < t) {
      x = next_u64();
      m = static_cast<__uint128_t>(x) * bound;
      l = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

SeededRandom::SeededRandom(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t SeededRandom::next_u64() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Clock& real_clock() {
  static RealClock c;
  return c;
}

Random& real_random() {
  static OsRandom r;
  return r;
}

FileSystem& real_fs() {
  static PosixFileSystem fs;
  return fs;
}

void set_thread_name(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace cairn
