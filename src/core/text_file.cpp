#include "core/text_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace ctxext {

std::string read_text_file(const std::filesystem::path& file, std::string_view what) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) fail("{}: cannot open {} (no such file)", file.string(), what);
  if (!std::filesystem::is_regular_file(status))
    fail("{}: cannot open {} (not a regular file)", file.string(), what);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open {} ({})", file.string(), what, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("{}: cannot read {} (read error)", file.string(), what);
  return text.str();
}

}  // namespace ctxext
