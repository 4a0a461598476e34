// Checkpoint integrity end to end (issue 10 §2): a run killed after step 5 left step-2 and step-4;
// a flipped byte in step-4's weights makes resume=auto warn, naming both, and go on from step-2 to
// the same weights as an uninterrupted run; damage in every checkpoint stops it with one line.
#include <catch2/catch.hpp>

#include <csignal>

#include "support/file_damage.h"
#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

TEST_CASE("train: a damaged newest checkpoint falls back to the previous one with a warning, same result",
          "[train][crash][checkpoint]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto clean = train_process(dir / "c.yaml", dir / "clean");
  REQUIRE(clean.exit_code == 0);

  const auto killed = train_process(dir / "c.yaml", dir / "run", {}, "after-step-5");
  REQUIRE(killed.signal == SIGKILL);
  const fs::path step2 = dir / "run" / "checkpoints" / "step-2";
  const fs::path step4 = dir / "run" / "checkpoints" / "step-4";
  REQUIRE(fs::exists(step4 / "COMMITTED"));

  SECTION("a flipped byte in step-4's tensor data") {
    flip_bits(step4 / "model.safetensors", 5, 0x40);
    const auto resumed = train_process(dir / "c.yaml", dir / "run");
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.output, Contains(step4.string() + ": damaged checkpoint (model.safetensors: CRC-32C") &&
                                   Contains("moved to " + step4.string() + ".damaged") &&
                                   Contains("resuming from the previous complete checkpoint " + step2.string()));
    CHECK_THAT(resumed.output, Contains("resumed from " + step2.string()));
    CHECK(read_text(dir / "run" / "export" / "model.safetensors") ==
          read_text(dir / "clean" / "export" / "model.safetensors"));
    CHECK(fs::is_directory(dir / "run" / "checkpoints" / "step-4.damaged"));
    CHECK(fs::exists(dir / "run" / "checkpoints" / "step-6" / "COMMITTED"));
  }
  SECTION("trainer_state.json edited in both checkpoints") {
    for (const auto& folder : {step2, step4}) {
      std::string text = read_text(folder / "trainer_state.json");
      text.replace(text.find("\"skipped_steps\": 0"), 18, "\"skipped_steps\": 1");
      write_text(folder / "trainer_state.json", text);
    }
    const auto resumed = train_process(dir / "c.yaml", dir / "run");
    INFO(resumed.output);
    CHECK(resumed.exit_code == 2);
    CHECK_THAT(resumed.output, Contains("every complete checkpoint is damaged: step-4 (trainer_state.json: CRC-32C") &&
                                   Contains("step-2 (trainer_state.json: CRC-32C"));
    CHECK_FALSE(fs::exists(dir / "run" / "export"));
  }
}
