#include "io/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/log.h"

namespace ctxext::io {
namespace fs = std::filesystem;
namespace {

struct Holder {
  long pid = 0;  // 0: none written
  std::string host;
};

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

// The lock file's "pid <pid> host <hostname>" line; anything else reads as no holder.
Holder read_holder(int fd) {
  char buffer[512] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  Holder holder;
  if (n <= 0) return holder;
  std::istringstream in(std::string(buffer, static_cast<size_t>(n)));
  std::string pid_word, host_word;
  if (!(in >> pid_word >> holder.pid >> host_word >> holder.host) || pid_word != "pid" || host_word != "host")
    return {};
  return holder;
}

std::string describe(const Holder& holder) {
  if (holder.pid == 0) return "a process that has not written its pid yet";
  return fmt::format("pid {} on host {}", holder.pid, holder.host);
}

bool alive_on_this_host(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

// A file system that does not implement flock at all.
bool flock_unsupported(int err) { return err == ENOLCK || err == EOPNOTSUPP || err == EINVAL; }

}  // namespace

RunLock::RunLock(const fs::path& folder) : folder_(folder), file_(folder / kRunLockFile) {
  std::error_code ec;
  if (!fs::exists(folder_, ec)) {
    created_folder_ = fs::create_directories(folder_, ec);
    if (ec) fail("{}: cannot create the folder: {}", folder_.string(), ec.message());
  }
  const std::string host = this_host();
  const auto give_up = [this] {  // before failing: nothing of this lock stays behind
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (created_folder_) ::rmdir(folder_.c_str());
  };
  // A holder that releases (unlinks the file) between our open() and flock() leaves us locking a
  // file no longer at the path: then open the path again.
  for (int attempt = 0;; ++attempt) {
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      give_up();
      fail("{}: cannot open the run lock: {}", file_.string(), std::strerror(err));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      const Holder holder = read_holder(fd_);
      if (!flock_unsupported(err)) {
        give_up();
        if (err == EWOULDBLOCK)
          fail("{}: another training run is writing this output_dir ({}; lock file {}): wait for it to end or use "
               "another output_dir", folder_.string(), describe(holder), file_.string());
        fail("{}: cannot lock: {}", file_.string(), std::strerror(err));
      }
      const bool ours = holder.host == host && holder.pid == ::getpid();
      if (holder.pid != 0 && !ours && (holder.host != host || alive_on_this_host(holder.pid))) {
        give_up();
        fail("{}: held by {} (lock file {}; this file system has no flock, so a holder on another host or a "
             "running pid counts as alive): wait for it to end, use another output_dir, or delete the lock file "
             "if that run is gone", folder_.string(), describe(holder), file_.string());
      }
      log::warn("{}: the file system does not support flock; only the pid and host in the lock file keep a second "
                "run out", file_.string());
      break;
    }
    struct stat held {}, named {};
    if (::fstat(fd_, &held) == 0 && ::stat(file_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      break;
    ::close(fd_);
    fd_ = -1;
    if (attempt == 100) {
      give_up();
      fail("{}: the lock file keeps being replaced; is another run starting?", file_.string());
    }
  }
  const Holder previous = read_holder(fd_);
  if (previous.pid != 0 && !(previous.host == host && previous.pid == ::getpid()))
    log::warn("{}: taking over the lock left by pid {} on host {}, which no longer holds it (it ended without "
              "releasing it, e.g. killed)", file_.string(), previous.pid, previous.host);
  const std::string content = fmt::format("pid {} host {}\n", ::getpid(), host);
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
    const int err = errno;
    ::unlink(file_.c_str());
    give_up();
    fail("{}: cannot write the run lock: {}", file_.string(), std::strerror(err));
  }
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  ::unlink(file_.c_str());  // while still locked, so no one locks a file that is about to vanish
  ::close(fd_);
  if (created_folder_) ::rmdir(folder_.c_str());  // only if empty: the run wrote nothing
}

}  // namespace ctxext::io
