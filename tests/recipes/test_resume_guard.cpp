// Resume only under the config a run was trained with (recipes/resume_guard.h), one writer per
// output_dir (io/run_lock.h), and no temporaries of killed writes left behind: each case runs the
// ctxext binary on a tiny 2-step run.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "io/run_lock.h"
#include "recipes/resume_guard.h"
#include "support/test_support.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// Trains the tiny config into `output_dir` with extra overrides.
CommandResult run_train(const fs::path& config, const fs::path& output_dir,
                    const std::vector<std::string>& overrides = {}) {
  return train_process(config, output_dir, overrides);
}

// A finished 2-step run (final checkpoint step-2 and the export) in <dir>/run, from <dir>/c.yaml.
void finished_run(const TempDir& dir) {
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto first = run_train(dir / "c.yaml", dir / "run", {"train.steps=2"});
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  REQUIRE(fs::exists(dir / "run" / "checkpoints" / "step-2" / "COMMITTED"));
  REQUIRE(fs::exists(dir / "run" / "export" / "model.safetensors"));
}

std::string exported(const TempDir& dir) { return read_text(dir / "run" / "export" / "model.safetensors"); }

pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

}  // namespace

TEST_CASE("resume: configs that mean the same compare equal, and what may change is no difference", "[resume]") {
  const std::string yaml = tiny_train_yaml("runs/a");
  const auto before = recipes::resolved_job_values(Config::parse(yaml, "a.yaml"));
  // 1.0e-3 written as 0.001, a default given explicitly, and keys that may change.
  const auto after = recipes::resolved_job_values(Config::parse(
      yaml, "b.yaml",
      {"train.lr=0.001", "train.precision=auto", "train.steps=9", "checkpoint.keep_last=5", "runtime.threads=3",
       "output_dir=runs/b", "export.enabled=false"}));
  for (const auto& change : recipes::config_changes(before, after)) {
    INFO(change.key << ": " << change.before << " -> " << change.after);
    CHECK_FALSE(recipes::changes_training(change.key));
  }
  CHECK(recipes::changes_training("rope.type"));
  CHECK(recipes::changes_training("train.lr"));
  CHECK(recipes::changes_training("data.path"));
  CHECK(recipes::changes_training("runtime.seed"));
  CHECK(recipes::changes_training("some_future.key"));  // unknown keys are safe by default
  CHECK_FALSE(recipes::changes_training("train.steps"));
  CHECK_FALSE(recipes::changes_training("checkpoint.every_steps"));
  // precision auto resolves differently on another device: that is a change.
  const auto on_cuda = recipes::resolved_job_values(Config::parse(yaml, "c.yaml", {"runtime.device=cuda"}));
  CHECK(on_cuda.at("train.precision") == "auto (bf16 on cuda)");
  CHECK(before.at("train.precision") == "auto (fp32 on cpu)");
}

TEST_CASE("resume: a changed rope.type is refused, naming both values", "[resume]") {
  TempDir dir;
  finished_run(dir);
  const std::string before = exported(dir);
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=2", "rope.type=pi"});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("rope.type was 'yarn', now 'pi'") && Contains("new output_dir") &&
                           Contains("resume=none") && Contains("checkpoints/step-2"));
  CHECK(exported(dir) == before);
  // The same check for an explicit resume=<folder> into another output_dir.
  const std::string step_2 = (dir / "run" / "checkpoints" / "step-2").string();
  const auto explicit_resume =
      run_train(dir / "c.yaml", dir / "other", {"train.steps=3", "rope.type=pi", "resume=" + step_2});
  INFO(explicit_resume.output);
  CHECK(explicit_resume.exit_code == 2);
  CHECK_THAT(explicit_resume.output, Contains("rope.type was 'yarn', now 'pi'"));
  CHECK_FALSE(fs::exists(dir / "other"));
  // The advice works: resume=none trains anew, and its final checkpoint replaces the old run's.
  const auto anew = run_train(dir / "c.yaml", dir / "run", {"train.steps=2", "rope.type=pi", "resume=none"});
  INFO(anew.output);
  CHECK(anew.exit_code == 0);
  CHECK_THAT(read_text(dir / "run" / "checkpoints" / "step-2" / "config.yaml"), Contains("type: pi"));
  CHECK(exported(dir) != before);
}

TEST_CASE("resume: a changed train.lr is refused, and resume_allow_changed lets it through on purpose", "[resume]") {
  TempDir dir;
  finished_run(dir);
  const auto refused = run_train(dir / "c.yaml", dir / "run", {"train.steps=3", "train.lr=2e-3"});
  INFO(refused.output);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.output, Contains("train.lr was '0.001', now '0.002'") &&
                                 Contains("resume_allow_changed=[train.lr]"));
  CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "step-3"));

  const auto typo = run_train(dir / "c.yaml", dir / "run", {"train.steps=3", "resume_allow_changed=[train.lrr]"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.output, Contains("'train.lrr' is not a config key"));

  const auto allowed =
      run_train(dir / "c.yaml", dir / "run", {"train.steps=3", "train.lr=2e-3", "resume_allow_changed=[train.lr]"});
  INFO(allowed.output);
  CHECK(allowed.exit_code == 0);
  CHECK_THAT(allowed.output, Contains("train.lr changed from '0.001' to '0.002' (resume_allow_changed)") &&
                                 Contains("resumed from"));
  CHECK(fs::exists(dir / "run" / "checkpoints" / "step-3" / "COMMITTED"));
}

TEST_CASE("resume: a higher train.steps extends the finished run", "[resume]") {
  TempDir dir;
  finished_run(dir);
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=3"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output,
             Contains("resumed from") && Contains("step 2") && Contains("cosine lr schedule now spans 3 steps"));
  CHECK(fs::exists(dir / "run" / "checkpoints" / "step-3" / "COMMITTED"));
  CHECK_THAT(read_text(dir / "run" / "metrics.jsonl"), Contains("\"step\":3,"));
}

TEST_CASE("resume: a train.steps below the checkpoint's step is refused", "[resume]") {
  TempDir dir;
  finished_run(dir);
  const std::string before = exported(dir);
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=1"});
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Contains("at step 2 but this run stops at step 1") && Contains("train.steps 2 -> 1") &&
                           Contains("cannot go back"));
  CHECK(exported(dir) == before);
}

TEST_CASE("resume: a finished run run again says it is complete and changes nothing", "[resume]") {
  TempDir dir;
  finished_run(dir);
  const auto export_time = fs::last_write_time(dir / "run" / "export" / "model.safetensors");
  const std::string metrics = read_text(dir / "run" / "metrics.jsonl");
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=2", "checkpoint.keep_last=3"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("already complete at step 2"));
  CHECK_THAT(r.output, !Contains("resumed from") && !Contains("exported"));
  CHECK(fs::last_write_time(dir / "run" / "export" / "model.safetensors") == export_time);
  CHECK(read_text(dir / "run" / "metrics.jsonl") == metrics);
  CHECK_FALSE(fs::exists(dir / "run" / io::kRunLockFile));
}

TEST_CASE("run lock: a second training on the same output_dir is refused, naming the holder", "[resume][run_lock]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  {
    io::RunLock holder(dir / "run");  // this test process plays the first training
    const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=1"});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains("another training run is writing this output_dir") &&
                             Contains("pid " + std::to_string(::getpid()) + " on host " + host_name()));
    CHECK_FALSE(fs::exists(dir / "run" / "checkpoints"));
  }
  CHECK(run_train(dir / "c.yaml", dir / "run", {"train.steps=1"}).exit_code == 0);
}

TEST_CASE("run lock: a stale lock of a dead process is taken over with a warning", "[resume][run_lock]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  fs::create_directories(dir / "run");
  const pid_t dead = dead_pid();
  write_text(dir / "run" / io::kRunLockFile, "pid " + std::to_string(dead) + " host " + host_name() + "\n");
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=1"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("taking over the lock left by pid " + std::to_string(dead)));
  CHECK(fs::exists(dir / "run" / "export" / "model.safetensors"));
  CHECK_FALSE(fs::exists(dir / "run" / io::kRunLockFile));
}

TEST_CASE("train: temporaries of killed checkpoint and export writes are removed at start", "[resume][orphans]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::string dead = std::to_string(dead_pid());
  const fs::path checkpoint_temp = dir / "run" / "checkpoints" / (".step-4.tmp-" + dead + "-0");
  const fs::path export_temp = dir / "run" / (".export.tmp-" + dead + "-3");
  fs::create_directories(checkpoint_temp);
  fs::create_directories(export_temp);
  write_text(checkpoint_temp / "model.safetensors", "partial");
  const auto r = run_train(dir / "c.yaml", dir / "run", {"train.steps=1"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("removed " + checkpoint_temp.string()) && Contains("removed " + export_temp.string()) &&
                           Contains("pid " + dead + " no longer runs"));
  CHECK_FALSE(fs::exists(checkpoint_temp));
  CHECK_FALSE(fs::exists(export_temp));
}
