// Every YAML config shipped under configs/ validates. The paper configs leave model.path and
// data.path to the user (null in the file): they are validated with those two filled in. The second
// pretraining stage starts from the first stage's output (runs/...), which a fresh clone lacks: its
// model.path is pointed at an empty folder.
#include <catch2/catch.hpp>

#include "support/test_support.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("validate: every config under configs/ is valid", "[config][cli]") {
  TempDir dir;
  fs::create_directories(dir / "model");
  write_text(dir / "chat.jsonl", "");
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator("configs")) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string text = read_text(entry.path());
    std::vector<std::string> args = {"validate", entry.path().string()};
    if (text.find("  path: null") != std::string::npos) {
      args.push_back("model.path=" + (dir / "model").string());
      args.push_back("data.path=" + (dir / "chat.jsonl").string());
    } else if (text.find("  path: runs/") != std::string::npos) {
      args.push_back("model.path=" + (dir / "model").string());
    }
    const auto result = run_ctxext(args);
    INFO(entry.path() << ": " << result.output);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Contains(": ok"));
    ++checked;
  }
  CHECK(checked >= 17);
}

TEST_CASE("validate: a bad key or value fails with exit 2 and names it", "[config][cli]") {
  TempDir dir;
  write_text(dir / "c.yaml", "model:\n  preset: tiny\ndata:\n  path: x.jsonl\nrope:\n  type: yarn\n  factr: 2\n");
  auto r = run_ctxext({"validate", (dir / "c.yaml").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("c.yaml:7") && Contains("unknown key 'rope.factr'"));
  r = run_ctxext({"validate", (dir / "c.yaml").string(), "rope.factr=", "rope.factor=0.5"});
  CHECK(r.exit_code == 2);
  r = run_ctxext({"validate", (dir / "missing.yaml").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("missing.yaml"));
}
