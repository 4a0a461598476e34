#include "core/file_kind.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace ctxext {

std::string file_kind(const std::filesystem::path& path) {
  struct stat link {};
  if (::lstat(path.c_str(), &link) != 0) return "does not exist";
  std::string through;
  if (S_ISLNK(link.st_mode)) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(path, ec);
    through = ec ? "a symlink" : "the symlink to " + target.string();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fmt::format("is a broken symlink ({})", through);
  if (S_ISREG(st.st_mode)) return "is a regular file";
  const char* kind = S_ISDIR(st.st_mode)    ? "a folder"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a file";
  return through.empty() ? fmt::format("is not a regular file ({})", kind)
                         : fmt::format("is not a regular file ({}, through {})", kind, through);
}

}  // namespace ctxext
