// Why a path that should be a regular file is not one, for error messages: "does not exist" would
// mislead for a symlink to /dev/null or a FIFO (reading either yields nothing or blocks forever).
#pragma once
#include <filesystem>
#include <string>

namespace ctxext {

// "does not exist", "is a broken symlink (to <target>)", or "is not a regular file (a folder |
// a character device | a block device | a FIFO | a socket[, through the symlink to <target>])";
// "is a regular file" when it is one.
std::string file_kind(const std::filesystem::path& path);

}  // namespace ctxext
