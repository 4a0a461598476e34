// Reading a whole file into memory: config files, JSON headers and indexes, data files, text to score.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace ctxext {

// The file's bytes. Fails with "<file>: cannot open <what> (<reason>)" when it is missing, is not a
// regular file (a folder, a device, a FIFO) or a read fails part-way.
std::string read_text_file(const std::filesystem::path& file, std::string_view what);

}  // namespace ctxext
