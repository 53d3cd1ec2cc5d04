#include "engine/fault_vfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

#include "engine/vfs_wrap.h"

namespace orderflow::engine {

namespace {

// What a write or truncate overwrote below the last synced size: put back on power loss.
struct Undo {
  std::uint64_t offset;
  std::string bytes;
};

// One path's durability state.
struct Tracked {
  bool live = false;          // the file exists now
  bool live_durable = false;  // ... and its directory entry is durable
  std::uint64_t synced_size = 0;
  std::vector<Undo> undo;     // in the order the overwrites happened
  // The durable content of a file whose deletion (or replacement) is not yet durable.
  std::optional<std::string> ghost;
};

std::string parent_of(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

Status io_failure(const std::string& what, const std::string& path) {
  return fail(ErrorCode::internal_error,
              "fault vfs: cannot " + what + " " + path + ": " + std::strerror(errno));
}

bool read_file(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return n == 0;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool write_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

// `current` with every undo record put back (newest first), cut to the synced size.
std::string durable_image(std::string current, const Tracked& t) {
  for (auto it = t.undo.rbegin(); it != t.undo.rend(); ++it) {
    if (current.size() < it->offset + it->bytes.size()) current.resize(it->offset + it->bytes.size());
    current.replace(it->offset, it->bytes.size(), it->bytes);
  }
  current.resize(t.synced_size);
  return current;
}

}  // namespace

struct FaultVfs::State : WrappedVfs {
  mutable std::mutex mu;
  std::map<std::string, Tracked> files;  // by full path; guarded by mu
  std::uint64_t calls = 0;               // guarded by mu
  std::optional<std::uint64_t> fail_at;  // absolute call index; guarded by mu
  std::optional<std::uint64_t> cut_at;   // absolute call index; guarded by mu
  bool dead = false;                     // guarded by mu
  bool full = false;                     // guarded by mu
  std::uint64_t injected = 0;            // guarded by mu

  // Counts one write-or-sync call and says whether it fails (its error code) or proceeds (0).
  // Caller holds mu.
  int gate(int failure) {
    std::uint64_t idx = calls++;
    if (cut_at && idx >= *cut_at) dead = true;
    if (dead) {
      ++injected;
      return failure;
    }
    if (fail_at && idx == *fail_at) {
      fail_at.reset();
      ++injected;
      return failure;
    }
    return 0;
  }

  // The directory `dir` was synced: its entries as they are now are durable. Caller holds mu.
  void directory_synced(const std::string& dir) {
    for (auto it = files.begin(); it != files.end();) {
      if (parent_of(it->first) != dir) {
        ++it;
        continue;
      }
      it->second.ghost.reset();
      if (!it->second.live) {
        it = files.erase(it);
        continue;
      }
      it->second.live_durable = true;
      ++it;
    }
  }
};

namespace {

using State = FaultVfs::State;

// The wrapper file: our header, then the real VFS's file at kRealOffset.
struct FaultFile {
  WrappedFile w;      // first: SQLite's file and the real VFS's
  State* st;
  std::string path;   // empty: not tracked (temporary files)
  bool dirsync;       // the real VFS syncs the directory on this file's first xSync
};

constexpr std::size_t kRealOffset = real_file_offset(sizeof(FaultFile));

FaultFile* ff(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

sqlite3_int64 size_of(sqlite3_file* real) {
  sqlite3_int64 n = 0;
  if (real->pMethods->xFileSize(real, &n) != SQLITE_OK) return 0;
  return n;
}

// Saves what [lo, hi) holds now, limited to below the synced size, before it is overwritten.
void save_undo(Tracked& t, sqlite3_file* real, std::uint64_t lo, std::uint64_t hi) {
  hi = std::min<std::uint64_t>(hi, t.synced_size);
  if (lo >= hi) return;
  Undo u{lo, std::string(hi - lo, '\0')};
  real->pMethods->xRead(real, u.bytes.data(), static_cast<int>(u.bytes.size()),
                        static_cast<sqlite3_int64>(lo));
  t.undo.push_back(std::move(u));
}

int x_close(sqlite3_file* f) {
  FaultFile* p = ff(f);
  int rc = p->w.real->pMethods != nullptr ? p->w.real->pMethods->xClose(p->w.real) : SQLITE_OK;
  p->~FaultFile();
  return rc;
}

int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  FaultFile* p = ff(f);
  State& st = *p->st;
  std::lock_guard g(st.mu);
  if (int rc = st.gate(SQLITE_IOERR_WRITE); rc != 0) return rc;
  auto size = static_cast<std::uint64_t>(size_of(p->w.real));
  auto end = static_cast<std::uint64_t>(off) + static_cast<std::uint64_t>(n);
  if (st.full && end > size) {
    ++st.injected;
    return SQLITE_FULL;
  }
  if (!p->path.empty()) {
    auto it = st.files.find(p->path);
    if (it != st.files.end()) save_undo(it->second, p->w.real, static_cast<std::uint64_t>(off), std::min(end, size));
  }
  return p->w.real->pMethods->xWrite(p->w.real, buf, n, off);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultFile* p = ff(f);
  State& st = *p->st;
  std::lock_guard g(st.mu);
  if (int rc = st.gate(SQLITE_IOERR_TRUNCATE); rc != 0) return rc;
  if (!p->path.empty()) {
    auto it = st.files.find(p->path);
    if (it != st.files.end())
      save_undo(it->second, p->w.real, static_cast<std::uint64_t>(size),
                static_cast<std::uint64_t>(size_of(p->w.real)));
  }
  return p->w.real->pMethods->xTruncate(p->w.real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  FaultFile* p = ff(f);
  State& st = *p->st;
  std::lock_guard g(st.mu);
  if (int rc = st.gate(SQLITE_IOERR_FSYNC); rc != 0) return rc;
  int rc = p->w.real->pMethods->xSync(p->w.real, flags);
  if (rc != SQLITE_OK || p->path.empty()) return rc;
  auto it = st.files.find(p->path);
  if (it != st.files.end()) {
    it->second.synced_size = static_cast<std::uint64_t>(size_of(p->w.real));
    it->second.undo.clear();
  }
  if (p->dirsync) {
    p->dirsync = false;
    st.directory_synced(parent_of(p->path));
  }
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* out) {
  return real_of(f)->pMethods->xFileSize(real_of(f), out);
}

const sqlite3_io_methods kMethods = wrapped_io_methods(x_close, x_read, x_write, x_truncate, x_sync, x_file_size);

State& state_of(sqlite3_vfs* vfs) { return static_cast<State&>(wrapped_of(vfs)); }

int v_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  State& st = state_of(vfs);
  auto* p = new (file) FaultFile{};
  attach_real_file(p->w, file, kRealOffset, *st.real);
  p->st = &st;
  bool tracked = name != nullptr && (flags & SQLITE_OPEN_DELETEONCLOSE) == 0;
  std::lock_guard g(st.mu);
  struct stat sb {};
  bool existed = tracked && ::stat(name, &sb) == 0;
  int rc = st.real->xOpen(st.real, name, p->w.real, flags, out_flags);
  if (rc != SQLITE_OK) {
    p->~FaultFile();
    file->pMethods = nullptr;
    return rc;
  }
  p->w.base.pMethods = &kMethods;
  if (!tracked) return rc;
  p->path = name;
  int type = flags & (SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL | SQLITE_OPEN_WAL);
  p->dirsync = (flags & SQLITE_OPEN_CREATE) != 0 && type != 0;
  Tracked& t = st.files[p->path];
  if (!t.live) {
    t.live = true;
    t.undo.clear();
    if (existed) {  // a file from before this VFS saw it: durable as it is
      t.live_durable = true;
      t.synced_size = static_cast<std::uint64_t>(sb.st_size);
      t.ghost.reset();
    } else {  // created now: its directory entry is not durable yet
      t.live_durable = false;
      t.synced_size = 0;
    }
  }
  return rc;
}

int v_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  State& st = state_of(vfs);
  std::lock_guard g(st.mu);
  if (st.dead) {
    ++st.injected;
    return SQLITE_IOERR_DELETE;
  }
  std::string path = name;
  std::optional<std::string> ghost;
  auto it = st.files.find(path);
  std::string current;
  bool readable = read_file(path, current);
  if (it == st.files.end()) {
    if (readable) ghost = std::move(current);  // durable as it was
  } else if (it->second.live && it->second.live_durable) {
    if (readable) ghost = durable_image(std::move(current), it->second);
  } else {
    ghost = it->second.ghost;  // a replaced durable file stays what survives
  }
  int rc = st.real->xDelete(st.real, name, sync_dir);
  if (rc != SQLITE_OK) return rc;
  Tracked& t = st.files[path];
  t.live = false;
  t.live_durable = false;
  t.synced_size = 0;
  t.undo.clear();
  t.ghost = std::move(ghost);
  if (sync_dir != 0) st.directory_synced(parent_of(path));
  return rc;
}

}  // namespace

FaultVfs::FaultVfs(std::unique_ptr<State> state) : state_(std::move(state)) {}

FaultVfs::~FaultVfs() { sqlite3_vfs_unregister(&state_->vfs); }

Result<std::unique_ptr<FaultVfs>> FaultVfs::install(const std::string& name) {
  auto st = std::make_unique<State>();
  if (auto s = register_wrapped_vfs(*st, "", name, sizeof(FaultFile), v_open, v_delete); !s)
    return fail(ErrorCode::internal_error, "fault " + s.error().message);
  return std::unique_ptr<FaultVfs>(new FaultVfs(std::move(st)));
}

const std::string& FaultVfs::name() const { return state_->name; }

void FaultVfs::cut_power_after(std::uint64_t n) {
  std::lock_guard g(state_->mu);
  state_->cut_at = state_->calls + n;
  if (n == 0) state_->dead = true;
}

bool FaultVfs::power_is_cut() const {
  std::lock_guard g(state_->mu);
  return state_->dead;
}

Status FaultVfs::restore_power() {
  State& st = *state_;
  std::lock_guard g(st.mu);
  st.dead = false;
  st.cut_at.reset();
  // Files of directories removed since (earlier tests' data directories) are forgotten.
  std::erase_if(st.files, [](const auto& entry) {
    struct stat sb {};
    return ::stat(parent_of(entry.first).c_str(), &sb) != 0;
  });
  for (auto& [path, t] : st.files) {
    if (t.live && t.live_durable) {
      int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) return io_failure("open", path);
      for (auto it = t.undo.rbegin(); it != t.undo.rend(); ++it) {
        if (::pwrite(fd, it->bytes.data(), it->bytes.size(), static_cast<off_t>(it->offset)) !=
            static_cast<ssize_t>(it->bytes.size())) {
          ::close(fd);
          return io_failure("restore", path);
        }
      }
      if (::ftruncate(fd, static_cast<off_t>(t.synced_size)) != 0) {
        ::close(fd);
        return io_failure("truncate", path);
      }
      ::close(fd);
    } else {
      if (t.live && ::unlink(path.c_str()) != 0 && errno != ENOENT) return io_failure("remove", path);
      if (t.ghost && !write_file(path, *t.ghost)) return io_failure("recreate", path);
    }
    // The WAL index lives in memory on a real machine: gone with the power.
    if (path.size() > 4 && path.ends_with("-wal"))
      ::unlink((path.substr(0, path.size() - 4) + "-shm").c_str());
  }
  // Everything on disk now is what survived: durable as it is.
  for (auto it = st.files.begin(); it != st.files.end();) {
    struct stat sb {};
    if (::stat(it->first.c_str(), &sb) != 0) {
      it = st.files.erase(it);
      continue;
    }
    it->second = Tracked{true, true, static_cast<std::uint64_t>(sb.st_size), {}, std::nullopt};
    ++it;
  }
  return {};
}

void FaultVfs::fail_nth(std::uint64_t n) {
  std::lock_guard g(state_->mu);
  state_->fail_at = state_->calls + n;
}

void FaultVfs::set_disk_full(bool full) {
  std::lock_guard g(state_->mu);
  state_->full = full;
}

void FaultVfs::clear_faults() {
  std::lock_guard g(state_->mu);
  state_->fail_at.reset();
  state_->full = false;
}

std::uint64_t FaultVfs::io_calls() const {
  std::lock_guard g(state_->mu);
  return state_->calls;
}

std::uint64_t FaultVfs::faults_injected() const {
  std::lock_guard g(state_->mu);
  return state_->injected;
}

}  // namespace orderflow::engine
