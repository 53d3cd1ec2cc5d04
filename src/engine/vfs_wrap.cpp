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

int x_lock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) { return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out); }
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
int x_device_characteristics(sqlite3_file* f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real_of(f)->pMethods->xShmUnmap(real_of(f), del); }

}  // namespace

sqlite3_io_methods wrapped_io_methods(int (*close)(sqlite3_file*), int (*read)(sqlite3_file*, void*, int, sqlite3_int64),
                                      int (*write)(sqlite3_file*, const void*, int, sqlite3_int64),
                                      int (*truncate)(sqlite3_file*, sqlite3_int64), int (*sync)(sqlite3_file*, int),
                                      int (*file_size)(sqlite3_file*, sqlite3_int64*)) {
  sqlite3_io_methods m{};
  m.iVersion = 2;
  m.xClose = close;
  m.xRead = read;
  m.xWrite = write;
  m.xTruncate = truncate;
  m.xSync = sync;
  m.xFileSize = file_size;
  m.xLock = x_lock;
  m.xUnlock = x_unlock;
  m.xCheckReservedLock = x_check_reserved;
  m.xFileControl = x_file_control;
  m.xSectorSize = x_sector_size;
  m.xDeviceCharacteristics = x_device_characteristics;
  m.xShmMap = x_shm_map;
  m.xShmLock = x_shm_lock;
  m.xShmBarrier = x_shm_barrier;
  m.xShmUnmap = x_shm_unmap;
  return m;
}

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
