// Temporary files and folders left behind by writers that died before commit: AtomicFile and
// AtomicFolder (io/atomic_folder.h) build under ".<name>.tmp-<pid>-<n>" (and move a replaced folder
// aside as ".<name>.old-<pid>-<n>"), so a killed checkpoint or export write leaves one, as large as
// the output (~80 GB for a 7B checkpoint). The pid in the name tells whether its writer still runs.
#pragma once
#include <filesystem>
#include <vector>

namespace ctxext::io {

// Removes, directly inside `folder`, every such temporary whose writer is no longer running on this
// host (kill(pid, 0) says no such process), logging one line per removal; an entry whose pid is alive
// is left alone (it may be writing now). Returns the removed paths. A missing folder removes nothing.
// Only call this on a folder no other host writes to (a run folder held under io/run_lock.h).
std::vector<std::filesystem::path> remove_orphaned_temporaries(const std::filesystem::path& folder);

}  // namespace ctxext::io
