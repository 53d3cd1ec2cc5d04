#include "engine/vfs_wrap.h"

#include <algorithm>

namespace orderflow::engine {

namespace {

sqlite3_vfs* real(sqlite3_vfs* vfs) { return wrapped_of(vfs).real; }

int v_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real(vfs)->xAccess(real(vfs), name, flags, out);
}
int v_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return real(vfs)->xFullPathname(real(vfs), name, n, out);
}
void* v_dl_open(sqlite3_vfs* vfs, const char* name) { return real(vfs)->xDlOpen(real(vfs), name); }
void v_dl_error(sqlite3_vfs* vfs, int n, char* out) { real(vfs)->xDlError(real(vfs), n, out); }
void (*v_dl_sym(sqlite3_vfs* vfs, void* h, const char* sym))(void) { return real(vfs)->xDlSym(real(vfs), h, sym); }
void v_dl_close(sqlite3_vfs* vfs, void* h) { real(vfs)->xDlClose(real(vfs), h); }
int v_randomness(sqlite3_vfs* vfs, int n, char* out) { return real(vfs)->xRandomness(real(vfs), n, out); }
int v_sleep(sqlite3_vfs* vfs, int us) { return real(vfs)->xSleep(real(vfs), us); }
int v_current_time(sqlite3_vfs* vfs, double* out) { return real(vfs)->xCurrentTime(real(vfs), out); }
int v_get_last_error(sqlite3_vfs* vfs, int n, char* out) { return real(vfs)->xGetLastError(real(vfs), n, out); }
int v_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return real(vfs)->xCurrentTimeInt64(real(vfs), out);
}
int v_set_system_call(sqlite3_vfs* vfs, const char* name, sqlite3_syscall_ptr fn) {
  return real(vfs)->xSetSystemCall(real(vfs), name, fn);
}
sqlite3_syscall_ptr v_get_system_call(sqlite3_vfs* vfs, const char* name) {
  return real(vfs)->xGetSystemCall(real(vfs), name);
}
const char* v_next_system_call(sqlite3_vfs* vfs, const char* name) {
  return real(vfs)->xNextSystemCall(real(vfs), name);
}

}  // namespace

Status register_wrapped_vfs(WrappedVfs& w, const std::string& base, std::string name, std::size_t header,
                            int (*open)(sqlite3_vfs*, const char*, sqlite3_file*, int, int*),
                            int (*remove)(sqlite3_vfs*, const char*, int)) {
  if (sqlite3_initialize() != SQLITE_OK) return fail(ErrorCode::internal_error, "vfs: sqlite3_initialize failed");
  if (sqlite3_vfs_find(name.c_str()) != nullptr)
    return fail(ErrorCode::internal_error, "vfs: a VFS named " + name + " exists");
  w.real = sqlite3_vfs_find(base.empty() ? nullptr : base.c_str());
  if (w.real == nullptr) return fail(ErrorCode::internal_error, "vfs: no VFS named '" + base + "'");
  w.name = std::move(name);
  sqlite3_vfs& v = w.vfs;
  v.iVersion = std::min(w.real->iVersion, 3);
  v.szOsFile = static_cast<int>(real_file_offset(header)) + w.real->szOsFile;
  v.mxPathname = w.real->mxPathname;
  v.zName = w.name.c_str();
  v.pAppData = &w;
  v.xOpen = open;
  v.xDelete = remove;
  v.xAccess = v_access;
  v.xFullPathname = v_full_pathname;
  v.xDlOpen = v_dl_open;
  v.xDlError = v_dl_error;
  v.xDlSym = v_dl_sym;
  v.xDlClose = v_dl_close;
  v.xRandomness = v_randomness;
  v.xSleep = v_sleep;
  v.xCurrentTime = v_current_time;
  v.xGetLastError = v_get_last_error;
  v.xCurrentTimeInt64 = v_current_time_int64;
  v.xSetSystemCall = v_set_system_call;
  v.xGetSystemCall = v_get_system_call;
  v.xNextSystemCall = v_next_system_call;
  if (sqlite3_vfs_register(&v, 0) != SQLITE_OK)
    return fail(ErrorCode::internal_error, "vfs: cannot register " + w.name);
  return {};
}

}  // namespace orderflow::engine
