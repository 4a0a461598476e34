#include "io/atomic_folder.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace ctxext::io {
namespace fs = std::filesystem;
namespace {

// ".name.tmp-<pid>-<n>" beside `final_path`: same file system (so rename is atomic), hidden, and
// unique per process and per call.
fs::path temp_sibling(const fs::path& final_path, const char* kind) {
  static std::atomic<uint64_t> counter{0};
  const auto n = counter.fetch_add(1);
  return final_path.parent_path() /
         fmt::format(".{}.{}-{}-{}", final_path.filename().string(), kind, ::getpid(), n);
}

// "a/b/" -> "a/b", "x" -> "./x": a non-empty parent and a file name for every path.
fs::path normalized(const fs::path& path) {
  auto p = path.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  if (p.empty()) fail("empty output path");
  return p.has_parent_path() ? p : fs::path(".") / p;
}

void fsync_tree(const fs::path& folder) {
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file() || entry.is_directory()) fsync_path(entry.path());
  fsync_path(folder);
}

}  // namespace

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open for fsync: {}", path.string(), std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("{}: fsync failed: {}", path.string(), std::strerror(err));
}

bool remove_tree(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  const auto remove_one = [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p) == 0 ? 0 : -1; };
  return ::nftw(path.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

// --- AtomicFile -------------------------------------------------------------------------------

AtomicFile::AtomicFile(fs::path final_path) : final_path_(normalized(final_path)) {
  temp_path_ = temp_sibling(final_path_, "tmp");
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot create: {}", final_path_.string(), std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("{}: write failed: {}", final_path_.string(), std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  if (committed_) fail("{}: committed twice", final_path_.string());
  if (::fsync(fd_) != 0) fail("{}: fsync failed: {}", final_path_.string(), std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) fail("{}: close failed: {}", final_path_.string(), std::strerror(errno));
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    fail("{}: cannot rename the temporary file into place: {}", final_path_.string(), std::strerror(errno));
  committed_ = true;
  fsync_path(final_path_.parent_path());
}

void write_file_atomic(const fs::path& file, const std::string& bytes) {
  AtomicFile out(file);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

// --- AtomicFolder -----------------------------------------------------------------------------

AtomicFolder::AtomicFolder(fs::path final_path) : final_path_(normalized(final_path)) {
  std::error_code ec;
  fs::create_directories(final_path_.parent_path(), ec);
  temp_path_ = temp_sibling(final_path_, "tmp");
  if (!fs::create_directory(temp_path_, ec) || ec)
    fail("{}: cannot create the temporary folder {}: {}", final_path_.string(), temp_path_.string(),
         ec ? ec.message() : "it already exists");
}

AtomicFolder::~AtomicFolder() {
  if (committed_) return;
  remove_tree(temp_path_);
}

void AtomicFolder::commit(const std::string& marker_name, const std::string& marker_text) {
  if (committed_) fail("{}: committed twice", final_path_.string());
  fsync_tree(temp_path_);
  const fs::path parent = final_path_.parent_path();
  if (fs::exists(fs::symlink_status(final_path_))) {
    // Swap old and new in one step, so the final path never stops existing; then drop the old.
    if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(), RENAME_EXCHANGE) != 0) {
      // File systems without RENAME_EXCHANGE: move the old folder aside first.
      const fs::path old = temp_sibling(final_path_, "old");
      if (std::rename(final_path_.c_str(), old.c_str()) != 0)
        fail("{}: cannot move the existing folder aside: {}", final_path_.string(), std::strerror(errno));
      if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
        const int err = errno;
        std::rename(old.c_str(), final_path_.c_str());
        fail("{}: cannot rename the temporary folder into place: {}", final_path_.string(), std::strerror(err));
      }
      remove_tree(old);
    }
  } else if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    fail("{}: cannot rename the temporary folder into place: {}", final_path_.string(), std::strerror(errno));
  }
  committed_ = true;
  remove_tree(temp_path_);  // after an exchange it holds the old folder
  fsync_path(parent);
  if (!marker_name.empty()) write_file_atomic(final_path_ / marker_name, marker_text);
}

}  // namespace ctxext::io
