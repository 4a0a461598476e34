// Checkpoint integrity (issue 10 §2): the commit marker records every file's size and CRC-32C; a
// damaged checkpoint is named with the file, resume=auto falls back to the previous intact one and
// moves the damaged one aside, and fails in one line when none is intact.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "io/safetensors.h"
#include "io/strict_json.h"
#include "support/file_damage.h"
#include "support/test_support.h"
#include "train/checkpoint_store.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

void save_step(const fs::path& output_dir, int64_t step) {
  train::TrainerState state;
  state.step = step;
  state.data_position = 4 * step;
  const auto weights = torch::arange(256, torch::kFloat32) * static_cast<float>(step);
  train::save_checkpoint(output_dir, state, torch::arange(32, torch::kUInt8), "train:\n  steps: 6", 3,
                         [&](const fs::path& folder) { io::write_safetensors(folder / "model.safetensors", {{"w", weights}}); });
}

fs::path step(const fs::path& output_dir, int64_t n) { return train::checkpoint_folder(output_dir, n); }

}  // namespace

TEST_CASE("the commit marker lists every checkpoint file with its size and CRC-32C", "[checkpoint]") {
  TempDir dir;
  save_step(dir.path(), 2);
  const auto marker = io::parse_strict_json(read_text(step(dir.path(), 2) / train::kCommitMarker), "marker");
  CHECK(marker["format"] == 1);
  for (const char* name : {"model.safetensors", "rng_state.safetensors", "trainer_state.json", "config.yaml"}) {
    INFO(name);
    REQUIRE(marker["files"].contains(name));
    CHECK(marker["files"][name]["bytes"].get<uint64_t>() == fs::file_size(step(dir.path(), 2) / name));
    CHECK(marker["files"][name]["crc32c"].get<std::string>().size() == 8);
  }
  CHECK_FALSE(marker["files"].contains(train::kCommitMarker));
  CHECK_FALSE(train::checkpoint_damage(step(dir.path(), 2)));
  CHECK(train::checkpoint_to_resume(dir.path(), "auto") == step(dir.path(), 2));
  CHECK_FALSE(train::checkpoint_to_resume(dir.path(), "none"));
  CHECK_FALSE(train::checkpoint_to_resume(dir / "elsewhere", "auto"));  // nothing there: a fresh start
}

TEST_CASE("a damaged file is named; resume=auto falls back to the previous intact checkpoint", "[checkpoint]") {
  TempDir dir;
  save_step(dir.path(), 2);
  save_step(dir.path(), 4);
  const fs::path newest = step(dir.path(), 4);

  SECTION("a flipped byte in a tensor file") {
    flip_bits(newest / "model.safetensors", 3);
    CHECK_THAT(train::checkpoint_damage(newest).value(),
               Contains("model.safetensors: CRC-32C ") && Contains("the commit marker recorded"));
  }
  SECTION("an edited trainer_state.json (same length)") {
    std::string text = read_text(newest / "trainer_state.json");
    text.replace(text.find("\"step\": 4"), 9, "\"step\": 5");
    write_text(newest / "trainer_state.json", text);
    CHECK_THAT(train::checkpoint_damage(newest).value(), Contains("trainer_state.json: CRC-32C"));
  }
  SECTION("a truncated file") {
    fs::resize_file(newest / "model.safetensors", fs::file_size(newest / "model.safetensors") - 10);
    CHECK_THAT(train::checkpoint_damage(newest).value(), Contains("model.safetensors: ") && Contains(" bytes, the commit marker recorded "));
  }
  SECTION("a missing file") {
    fs::remove(newest / "rng_state.safetensors");
    CHECK(train::checkpoint_damage(newest).value() == "rng_state.safetensors does not exist");
  }
  SECTION("a file replaced by a symlink to /dev/null") {
    fs::remove(newest / "model.safetensors");
    fs::create_symlink("/dev/null", newest / "model.safetensors");
    CHECK_THAT(train::checkpoint_damage(newest).value(), Contains("model.safetensors is not a regular file (a character device"));
  }
  SECTION("a commit marker that is not JSON") {
    write_text(newest / train::kCommitMarker, "{\"format\": 1, \"files\": ");
    CHECK_THAT(train::checkpoint_damage(newest).value(), Contains("COMMITTED: invalid JSON"));
  }
  SECTION("a commit marker listing a file outside the checkpoint") {
    write_text(newest / train::kCommitMarker, R"({"format": 1, "files": {"../x": {"bytes": 1, "crc32c": "00000000"}}})");
    CHECK_THAT(train::checkpoint_damage(newest).value(), Contains("not a file inside the checkpoint"));
  }

  CHECK(train::checkpoint_to_resume(dir.path(), "auto") == step(dir.path(), 2));
  // Moved aside: no longer a checkpoint the run counts (keep_last, the final-checkpoint test), still there.
  CHECK_FALSE(fs::exists(newest));
  CHECK(fs::is_directory(dir / "checkpoints" / "step-4.damaged"));
  CHECK(train::find_latest_checkpoint(dir.path()) == step(dir.path(), 2));
  CHECK_THROWS_WITH(train::checkpoint_to_resume(dir.path(), (dir / "checkpoints" / "step-4.damaged").string()), Contains("damaged"));
}

TEST_CASE("every checkpoint damaged: one line naming each, nothing moved; an explicit path has no fallback",
          "[checkpoint]") {
  TempDir dir;
  save_step(dir.path(), 2);
  save_step(dir.path(), 4);
  for (int64_t n : {2, 4}) flip_bits(step(dir.path(), n) / "trainer_state.json", 3);
  try {
    train::checkpoint_to_resume(dir.path(), "auto");
    FAIL("no error");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);
    CHECK_THAT(what, Contains("every complete checkpoint is damaged: step-4 (trainer_state.json: CRC-32C") &&
                         Contains("; step-2 (trainer_state.json: CRC-32C") && Contains("resume=none starts over"));
  }
  CHECK(fs::exists(step(dir.path(), 4)));
  CHECK(fs::exists(step(dir.path(), 2)));

  CHECK_THROWS_WITH(train::checkpoint_to_resume(dir.path(), step(dir.path(), 4).string()),
                    Contains("step-4: damaged checkpoint: trainer_state.json: CRC-32C") && Contains("no other to fall back to"));
  CHECK_THROWS_WITH(train::checkpoint_to_resume(dir.path(), (dir / "nowhere").string()), Contains("no COMMITTED marker"));
}

TEST_CASE("a checkpoint written before checksums (empty marker) still resumes, unverified", "[checkpoint]") {
  TempDir dir;
  save_step(dir.path(), 2);
  write_text(step(dir.path(), 2) / train::kCommitMarker, "");
  CHECK_FALSE(train::checkpoint_damage(step(dir.path(), 2)));
  CHECK(train::checkpoint_to_resume(dir.path(), "auto") == step(dir.path(), 2));
  CHECK(train::load_checkpoint(step(dir.path(), 2)).state.step == 2);
}
