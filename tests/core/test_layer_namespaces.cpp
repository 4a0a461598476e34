// One namespace per layer (docs/architecture.md): every source file of src/<layer>/ declares its code in
// ctxext::<layer> (core: the root ctxext), and no source file pulls another namespace in wholesale.
// Reads the sources themselves (CTest runs with the source root as the working directory).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("every src/<layer> file opens only ctxext::<layer> (core: ctxext) and uses no using-directive",
          "[layout]") {
  REQUIRE(fs::is_directory("src"));
  // `namespace ctxext...` at the start of a line (nested helpers such as `namespace {` or
  // `namespace ctxext::rope::methods` below the layer are allowed; another layer's namespace is not).
  const std::regex opened(R"(^namespace (ctxext[\w:]*) \{)", std::regex::multiline);
  const std::regex using_directive(R"(^\s*using namespace ctxext)", std::regex::multiline);
  int files = 0;
  for (const auto& layer_dir : fs::directory_iterator("src")) {
    if (!layer_dir.is_directory()) continue;
    const std::string layer = layer_dir.path().filename().string();
    const std::string expected = layer == "core" ? "ctxext" : "ctxext::" + layer;
    for (const auto& entry : fs::directory_iterator(layer_dir.path())) {
      const auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      const std::string text = slurp(entry.path());
      ++files;
      INFO(entry.path().string());
      CHECK_FALSE(std::regex_search(text, using_directive));
      for (auto it = std::sregex_iterator(text.begin(), text.end(), opened); it != std::sregex_iterator(); ++it) {
        const std::string ns = (*it)[1].str();
        const bool in_layer = ns == expected || ns.rfind(expected + "::", 0) == 0;
        // core's own sub-namespaces (ctxext::log) are core; any other ctxext::x in core would be a layer's.
        INFO("opens namespace " << ns << ", expected " << expected);
        CHECK(in_layer);
      }
    }
  }
  CHECK(files > 100);
}
