// One writer per run folder: an exclusive lock on <folder>/.lock, held from construction to
// destruction (or to process death: the kernel drops an flock with its holder).
//
// The lock itself is flock(2) on the file; its content "pid <pid> host <hostname>" only names the
// holder in the refusal message. A file left behind by a killed holder is no longer locked: it is
// taken over with a warning naming the dead holder. On a file system without flock (ENOLCK,
// EOPNOTSUPP) the content decides instead: a holder on this host that is still alive, or any holder
// on another host (which cannot be checked), refuses; a dead one on this host is taken over.
#pragma once
#include <filesystem>
#include <string>

namespace ctxext::io {

inline constexpr const char* kRunLockFile = ".lock";

class RunLock {
 public:
  // Creates `folder` if needed and locks it; fails (Error) with one line naming the holder's pid
  // and host when another process holds it.
  explicit RunLock(const std::filesystem::path& folder);
  // Removes the lock file, then the folder too if this lock created it and it is still empty.
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path folder_;
  std::filesystem::path file_;
  int fd_ = -1;
  bool created_folder_ = false;
};

}  // namespace ctxext::io
