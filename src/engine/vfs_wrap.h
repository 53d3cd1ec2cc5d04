// The plumbing shared by the SQLite VFSes that wrap another one (wal_vfs.h, and the tests'
// fault_vfs.h): a wrapper's file is its own header followed by the wrapped VFS's file, and
// every VFS method but opening and deleting a file goes straight to the wrapped VFS.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "common/result.h"

namespace orderflow::engine {

// A wrapper's state starts with this (pAppData of `vfs` points at it).
struct WrappedVfs {
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;  // the wrapped VFS
  std::string name;
};

// Where the wrapped VFS's file starts inside a wrapper's file whose own header is `header`
// bytes.
constexpr std::size_t real_file_offset(std::size_t header) { return (header + 15) & ~std::size_t{15}; }

// Fills `w.vfs` to wrap the VFS called `base` (empty: the default) as `name`, with files of
// `header` bytes of the wrapper's own before the wrapped VFS's, `open` and `remove` as xOpen
// and xDelete, and everything else forwarded; then registers it (not as the default). Fails
// when `base` does not exist or a VFS called `name` does. Undo with sqlite3_vfs_unregister.
Status register_wrapped_vfs(WrappedVfs& w, const std::string& base, std::string name, std::size_t header,
                            int (*open)(sqlite3_vfs*, const char*, sqlite3_file*, int, int*),
                            int (*remove)(sqlite3_vfs*, const char*, int));

inline WrappedVfs& wrapped_of(sqlite3_vfs* vfs) { return *static_cast<WrappedVfs*>(vfs->pAppData); }

// A wrapper's file starts with this.
struct WrappedFile {
  sqlite3_file base;   // what SQLite sees (pMethods)
  sqlite3_file* real;  // the wrapped VFS's file, inside the same allocation
};

// The wrapped VFS's file of a wrapper's file.
inline sqlite3_file* real_of(sqlite3_file* f) { return reinterpret_cast<WrappedFile*>(f)->real; }

// For a wrapper's xOpen: points `w.real` at the wrapped VFS's file, `offset` bytes into `file`
// (real_file_offset of the wrapper's header), zeroed for `real`'s xOpen; `w` has no methods
// until the wrapper sets them (an open that fails leaves it so).
inline void attach_real_file(WrappedFile& w, sqlite3_file* file, std::size_t offset, const sqlite3_vfs& real) {
  w.base.pMethods = nullptr;
  w.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + offset);
  std::memset(w.real, 0, static_cast<std::size_t>(real.szOsFile));
}

// A wrapper's I/O methods: the given functions for the calls it changes, every other call
// forwarded to the wrapped file. Version 2: shared memory (WAL) but no xFetch, so memory-mapped
// I/O stays off (as it is by default) and SQLite never writes through a mapping.
sqlite3_io_methods wrapped_io_methods(int (*close)(sqlite3_file*), int (*read)(sqlite3_file*, void*, int, sqlite3_int64),
                                      int (*write)(sqlite3_file*, const void*, int, sqlite3_int64),
                                      int (*truncate)(sqlite3_file*, sqlite3_int64), int (*sync)(sqlite3_file*, int),
                                      int (*file_size)(sqlite3_file*, sqlite3_int64*));

}  // namespace orderflow::engine
