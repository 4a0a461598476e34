#include "io/temp_orphans.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <regex>

#include "core/log.h"
#include "io/atomic_folder.h"

namespace ctxext::io {
namespace fs = std::filesystem;

std::vector<fs::path> remove_orphaned_temporaries(const fs::path& folder) {
  std::vector<fs::path> removed;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return removed;
  static const std::regex temp_name(R"(\..+\.(tmp|old)-([0-9]{1,9})-[0-9]+)");
  std::vector<std::pair<fs::path, pid_t>> candidates;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, temp_name))
      candidates.emplace_back(entry.path(), static_cast<pid_t>(std::stol(m[2].str())));
  }
  for (const auto& [path, pid] : candidates) {
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may be running
    if (!remove_tree(path)) {
      log::warn("{}: cannot remove this temporary left by a killed write (pid {})", path.string(), pid);
      continue;
    }
    log::info("removed {}: the temporary of a write killed before it finished (pid {} no longer runs)", path.string(),
              pid);
    removed.push_back(path);
  }
  return removed;
}

}  // namespace ctxext::io
