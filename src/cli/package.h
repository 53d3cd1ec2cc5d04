// `orderflow package`: the function's deployment package for Lambda's provided.al2023 runtime,
// a zip that runs on a machine holding none of the libraries it was built against.
//
// Layout of a package for a dynamically linked bootstrap (the usual build):
//   bootstrap                      0755  a /bin/sh script: what provided.al2023 executes
//   bin/bootstrap                  0755  the function (src/lambda/main.cpp), unchanged
//   lib/ld-linux-x86-64.so.2       0755  the dynamic loader the binary was linked for
//   lib/<SONAME>                   0644  every other library the loader maps, C library included
// plus the directory entries bin/ and lib/ (0755). The script runs
//   exec $LAMBDA_TASK_ROOT/lib/ld-linux-x86-64.so.2 --library-path $LAMBDA_TASK_ROOT/lib
//        $LAMBDA_TASK_ROOT/bin/bootstrap
// Why not bootstrap at the root with lib/ beside it and nothing else:
//   - glibc: the build host (Debian 12) has glibc 2.36, provided.al2023 has 2.34. A binary and
//     libraries built on Debian need symbols versioned GLIBC_2.35+ that the runtime's libc
//     lacks, and a libc cannot be swapped under a program started by the system loader (the
//     loader and libc.so.6 must come from the same build). So the C library and its loader
//     are packaged too, and the packaged loader is run explicitly. This is what AWS's C++
//     runtime packager does (awslabs/aws-lambda-cpp, `packaging/packager`).
//   - LD_LIBRARY_PATH: Lambda sets it to /lib64:/usr/lib64:...:$LAMBDA_TASK_ROOT/lib, so the
//     runtime's own libcurl, libssl, libz... would be found before the packaged ones.
//     `--library-path` replaces LD_LIBRARY_PATH for the function, so lib/ comes first.
// The runtime provides only what the script itself needs: /bin/sh and LAMBDA_TASK_ROOT.
// A statically linked bootstrap needs nothing: the package is that binary alone, as
// `bootstrap` (0755). linux-vdso.so.1 is the kernel's and never packaged.
//
// The libraries are the loader's own list for the binary (`ldd`, i.e. `ld.so --list`), taken
// on the machine packaging, plus libcurl and the loader's list for it: the function opens
// libcurl with dlopen() for its first https request (client/curl_transport.cpp), and does not
// link it, so that a worker starts without mapping it and its two dozen libraries. `ld.so
// --library-path` covers dlopen() too, so the packaged libcurl is the one opened. Symlinks
// are followed, so each library is stored as a regular file under the name asked for (its
// SONAME). Nothing else is opened with dlopen(): glibc 2.34+ has the NSS files and dns modules
// built in; OpenSSL's default provider is built into libcrypto. The package's libcurl comes
// from the build machine, so the function finds the runtime's CA bundle itself
// (lambda/main.cpp).
//
// The zip is deterministic: entries sorted by name, every time 1980-01-01 00:00 (DOS), unix
// modes in the external attributes; the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace orderflow::cli::package {

// A library the dynamic loader maps for a binary.
struct SharedLibrary {
  std::string soname;          // the name the binary (or a library) asks for, e.g. "libcurl.so.4"
  std::filesystem::path path;  // where the loader found it on this machine
  bool loader = false;         // the dynamic loader itself (its soname is its file name)
};

// What the loader says about a binary.
struct LoaderList {
  bool is_static = false;                // statically linked: nothing to package beside it
  std::vector<SharedLibrary> libraries;  // in the loader's order, without the kernel's vDSO
};

// Reads the output of `ldd BINARY`. Errors (validation_error): a library "not found", a line
// that is neither a library, the loader nor the vDSO, or a dynamic binary without a loader.
Result<LoaderList> parse_loader_list(std::string_view text);

// Checks that `header` (the first bytes of the file) is an x86-64 ELF executable, the only
// architecture deploy/template.yaml declares. Errors (validation_error) say what it is not.
Status check_x86_64_elf(std::string_view header);

// An entry of the zip: a directory (name ends in '/', no content), or a file whose bytes are
// `content` or the file at `source`.
struct ZipEntry {
  std::string name;    // inside the zip: '/'-separated, no leading '/'
  std::uint32_t mode;  // st_mode bits: file type and permissions, e.g. 0100755, 040755
  std::variant<std::filesystem::path, std::string> content;
};

// The script packaged as `bootstrap` that runs bin/bootstrap with the packaged loader named
// `loader_name` (a file in lib/).
std::string wrapper_script(std::string_view loader_name);

// The entries of the package for the binary at `bootstrap` with the loader list `list`,
// sorted by name (the layout above). Errors: two libraries with the same soname from
// different files (validation_error).
Result<std::vector<ZipEntry>> plan_package(const std::filesystem::path& bootstrap,
                                           const LoaderList& list);

// Adds `library` (opened with dlopen by the binary) and the libraries of `its_list` (the
// loader's list for that library) to `list`, each soname once. Errors (validation_error): the
// lists name different dynamic loaders.
Status add_opened_library(LoaderList& list, const SharedLibrary& library, const LoaderList& its_list);

// Writes `entries` to `output` in their order, replacing any file there only once complete.
// Errors (internal_error) name the file or entry that failed.
Status write_zip(const std::vector<ZipEntry>& entries, const std::filesystem::path& output);

// Runs `ldd` on `binary` and returns what it printed (stdout and stderr); the one call to the
// OS besides reading files. Errors: ldd cannot be started (internal_error). A non-zero exit is
// not an error: "not a dynamic executable" is an answer parse_loader_list reads.
Result<std::string> run_ldd(const std::filesystem::path& binary);

}  // namespace orderflow::cli::package
