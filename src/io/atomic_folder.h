// Crash-safe output: files and folders appear complete or not at all.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>

namespace ctxext::io {

// Writes `bytes` to `file` through a temp file in the same folder, fsync, rename, fsync of the folder.
void write_file_atomic(const std::filesystem::path& file, const std::string& bytes);

// fsync a file or folder by path.
void fsync_path(const std::filesystem::path& path);

// Removes a file or folder tree (symlinks not followed); false if something could not be removed.
// Use this, not std::filesystem::remove_all: the pip LibTorch exports its own remove_all, which
// calls a libstdc++ symbol GCC 12 lacks and so jumps to address 0.
bool remove_tree(const std::filesystem::path& path);

// A file streamed into a dot-named temporary sibling (".name.tmp-<pid>-<n>") and renamed into place
// by commit() after an fsync; the folder is fsynced too. Removed if destroyed before commit().
// For outputs too large to build in memory first (safetensors shards).
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

// A folder built under a dot-named temporary sibling (".name.tmp-<pid>-<n>") and renamed into place by
// commit(): every file fsynced, the folder renamed, the parent fsynced, then (optionally) a commit
// marker file written, holding `marker_text`. If destroyed before commit() the temporary folder is
// removed. An existing folder at the final path is replaced only at commit().
class AtomicFolder {
 public:
  explicit AtomicFolder(std::filesystem::path final_path);
  ~AtomicFolder();
  AtomicFolder(const AtomicFolder&) = delete;
  AtomicFolder& operator=(const AtomicFolder&) = delete;

  const std::filesystem::path& path() const { return temp_path_; }  // write here
  void commit(const std::string& marker_name = "", const std::string& marker_text = "");

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  bool committed_ = false;
};

}  // namespace ctxext::io
