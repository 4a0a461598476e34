// Data-parallel training over c10d (Gloo, CPU): N real processes started like torchrun starts them,
// compared with one process on the same global batch. Provenance of the tolerance: the ranks sum
// the same per-sample gradients in another order (fp32), so weights agree to ~1e-6 relative, not
// bitwise; two runs of the same job are bitwise identical.
#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>

#include "ctxext/build_info.h"
#include "io/run_lock.h"
#include "rank_launcher.h"
#include "train_fixture.h"
#include "train_runs.h"

using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> train_args(const fs::path& config, const fs::path& output_dir,
                                    const std::vector<std::string>& overrides = {}) {
  std::vector<std::string> args{"train", config.string(), "output_dir=" + output_dir.string()};
  args.insert(args.end(), overrides.begin(), overrides.end());
  return args;
}

std::vector<double> losses(const fs::path& output_dir) {
  std::vector<double> out;
  for (const auto& row : read_metrics(output_dir / "metrics.jsonl")) out.push_back(row["loss"].get<double>());
  return out;
}

void require_all_ok(const std::vector<RankResult>& ranks) {
  for (size_t r = 0; r < ranks.size(); ++r) {
    INFO("rank " << r << " log:\n" << ranks[r].log);
    REQUIRE(ranks[r].exit_code == 0);
  }
}

void check_same_training(const fs::path& reference, const fs::path& run) {
  const auto expected = losses(reference), got = losses(run);
  REQUIRE(expected.size() == got.size());
  REQUIRE_FALSE(expected.empty());
  for (size_t i = 0; i < expected.size(); ++i) CHECK(std::abs(got[i] - expected[i]) <= 1e-5 * std::abs(expected[i]));
  CHECK(relative_weight_difference(reference, run) <= 1e-5);
}

}  // namespace

TEST_CASE("train distributed: 2 and 4 ranks equal one process, for sharding none, optimizer and full",
          "[train][dist]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::vector<std::string> micro1{"train.micro_batch_size=1", "checkpoint.every_steps=0"};
  auto single = run_ctxext(train_args(dir / "c.yaml", dir / "single", micro1));
  INFO(single.output);
  REQUIRE(single.exit_code == 0);

  // full twice: with activation checkpointing (layers gathered per forward and per recompute) and
  // without (layers stay whole until the micro-batch's backward is done).
  for (const std::string sharding : {"none", "optimizer", "full", "full checkpointed"}) {
    for (const int world : {2, 4}) {
      DYNAMIC_SECTION("sharding " << sharding << ", " << world << " ranks") {
        auto overrides = micro1;
        overrides.push_back("train.sharding=" + sharding.substr(0, sharding.find(' ')));
        if (sharding == "full checkpointed") overrides.push_back("train.activation_checkpointing=true");
        const fs::path out = dir / ("dp-" + sharding.substr(0, 4) + std::to_string(sharding.size()) + "-" +
                                    std::to_string(world));
        require_all_ok(run_ranks(world, train_args(dir / "c.yaml", out, overrides), dir.path()));
        check_same_training(dir / "single", out);
        if (world == 2) {  // the same job again: bitwise identical
          const fs::path again = out.string() + "-again";
          require_all_ok(run_ranks(world, train_args(dir / "c.yaml", again, overrides), dir.path()));
          CHECK(read_text(out / "export" / "model.safetensors") == read_text(again / "export" / "model.safetensors"));
        }
      }
    }
  }
}

TEST_CASE("train distributed: resume with another world size (optimizer 4 -> 2 -> 1 and 1 -> 2, full 2 -> 4)",
          "[train][dist][crash]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::vector<std::string> sharded{"train.micro_batch_size=1", "train.sharding=optimizer"};
  const auto clean = run_ctxext(train_args(dir / "c.yaml", dir / "clean", sharded));
  INFO(clean.output);
  REQUIRE(clean.exit_code == 0);

  SECTION("4 ranks killed after step 3, 2 ranks killed after step 5, then 1 process") {
    const fs::path run = dir / "run";
    auto killed = run_ranks(4, train_args(dir / "c.yaml", run, sharded), dir.path(),
                            {{0, "CTXEXT_FAULT=after-step-3"}, {1, "CTXEXT_FAULT=after-step-3"},
                             {2, "CTXEXT_FAULT=after-step-3"}, {3, "CTXEXT_FAULT=after-step-3"}});
    for (const auto& r : killed) CHECK(r.exit_code == -1);
    REQUIRE(fs::exists(run / "checkpoints" / "step-2" / "zero-shard-00003-of-00004.safetensors"));
    killed = run_ranks(2, train_args(dir / "c.yaml", run, sharded), dir.path(),
                       {{0, "CTXEXT_FAULT=after-step-5"}, {1, "CTXEXT_FAULT=after-step-5"}});
    for (const auto& r : killed) CHECK(r.exit_code == -1);
    REQUIRE(fs::exists(run / "checkpoints" / "step-4" / "zero-shard-00001-of-00002.safetensors"));
    const auto last = run_ctxext(train_args(dir / "c.yaml", run, sharded));
    INFO(last.output);
    REQUIRE(last.exit_code == 0);
    CHECK_THAT(last.output, Contains("resumed from"));
    check_same_training(dir / "clean", run);
  }
  SECTION("full sharding, checkpointed: 2 ranks killed after step 3, then 4 ranks") {
    const fs::path run = dir / "run";
    const std::vector<std::string> full{"train.micro_batch_size=1", "train.sharding=full",
                                        "train.activation_checkpointing=true"};
    const auto reference = run_ctxext(train_args(dir / "c.yaml", dir / "clean-full", full));
    REQUIRE(reference.exit_code == 0);
    const auto killed = run_ranks(2, train_args(dir / "c.yaml", run, full), dir.path(),
                                  {{0, "CTXEXT_FAULT=after-step-3"}, {1, "CTXEXT_FAULT=after-step-3"}});
    for (const auto& r : killed) CHECK(r.exit_code == -1);
    const auto resumed = run_ranks(4, train_args(dir / "c.yaml", run, full), dir.path());
    require_all_ok(resumed);
    CHECK_THAT(resumed[0].log, Contains("resumed from"));
    check_same_training(dir / "clean-full", run);
  }
  SECTION("1 process killed after step 3, then 2 ranks") {
    const fs::path run = dir / "run";
    const auto killed = train_process(dir / "c.yaml", run, sharded, "after-step-3");
    CHECK(killed.signal == SIGKILL);
    const auto resumed = run_ranks(2, train_args(dir / "c.yaml", run, sharded), dir.path());
    require_all_ok(resumed);
    CHECK_THAT(resumed[0].log, Contains("resumed from"));
    check_same_training(dir / "clean", run);
  }
}

TEST_CASE("train distributed: a rank killed mid-run is named by the others, and resume=auto continues exactly",
          "[train][dist][crash]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::vector<std::string> overrides{"train.micro_batch_size=1", "runtime.dist_timeout_s=60"};
  require_all_ok(run_ranks(2, train_args(dir / "c.yaml", dir / "clean", overrides), dir.path()));

  const auto killed = run_ranks(2, train_args(dir / "c.yaml", dir / "run", overrides), dir.path(),
                                {{1, "CTXEXT_FAULT=after-step-3"}});
  CHECK(killed[1].exit_code == -1);
  INFO("rank 0 log:\n" << killed[0].log);
  CHECK(killed[0].exit_code == 2);
  CHECK_THAT(killed[0].log, Contains("error: rank 0/2:") && Contains("lost rank 1"));
  CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "step-4"));
  CHECK_FALSE(fs::exists(dir / "run" / "export"));

  require_all_ok(run_ranks(2, train_args(dir / "c.yaml", dir / "run", overrides), dir.path()));
  CHECK(read_text(dir / "clean" / "export" / "model.safetensors") ==
        read_text(dir / "run" / "export" / "model.safetensors"));
}

TEST_CASE("train distributed: bad jobs fail on every rank with one line", "[train][dist]") {
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));

  SECTION("ranks started with different configs name the key") {
    const auto ranks = run_ranks(2, train_args(dir / "c.yaml", dir / "run"), dir.path(), {}, {{1, "train.lr=0.002"}});
    for (const auto& r : ranks) {
      INFO(r.log);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.log, Contains("different configs") && Contains("train.lr = 0.001 on rank 0, 0.002 on rank 1"));
    }
    CHECK_FALSE(fs::exists(dir / "run" / "metrics.jsonl"));
  }
  SECTION("a global batch that the ranks cannot split names both numbers") {
    const auto ranks = run_ranks(3, train_args(dir / "c.yaml", dir / "run", {"train.micro_batch_size=1"}), dir.path());
    for (const auto& r : ranks) {
      INFO(r.log);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.log, Contains("train.global_batch_size 4 is not a multiple of train.micro_batch_size 1 x world "
                                 "size 3"));
    }
  }
  SECTION("a rank that cannot reach the store names the address and port") {
    const int port = free_port();
    const auto r = run_command("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) +
                               " timeout -s KILL 60 " + shell_quote(std::getenv("CTXEXT_BIN")) + " train " +
                               shell_quote((dir / "c.yaml").string()) + " runtime.dist_timeout_s=2 output_dir=" +
                               shell_quote((dir / "run").string()));
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains("rank 1 cannot reach the rendezvous store at 127.0.0.1:" + std::to_string(port)));
  }
  SECTION("an output_dir another training holds stops every rank at once, not after the timeout") {
    ctxext::io::RunLock holder(dir / "run");  // this test process plays the other training
    const auto ranks = run_ranks(2, train_args(dir / "c.yaml", dir / "run"), dir.path());
    for (const auto& r : ranks) {
      INFO(r.log);
      CHECK(r.exit_code == 2);
      CHECK_THAT(r.log, Contains("another training run is writing this output_dir"));
    }
    CHECK_THAT(ranks[1].log, Contains("rank 0 stopped the job: "));
  }
  SECTION("malformed or missing launcher variables name the variable") {
    const std::string train = shell_quote(std::getenv("CTXEXT_BIN")) + " train " + shell_quote((dir / "c.yaml").string()) +
                              " output_dir=" + shell_quote((dir / "run").string());
    const auto bad_world = run_command("WORLD_SIZE=abc " + train);
    CHECK(bad_world.exit_code == 2);
    CHECK_THAT(bad_world.output, Contains("environment variable WORLD_SIZE='abc': expected an integer"));
    const auto no_rank = run_command("WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 " + train);
    CHECK(no_rank.exit_code == 2);
    CHECK_THAT(no_rank.output, Contains("environment variable RANK is not set"));
    CHECK_FALSE(fs::exists(dir / "run" / "metrics.jsonl"));
  }
  SECTION("train.world_size is no longer a key") {
    const auto r = run_ctxext(train_args(dir / "c.yaml", dir / "run", {"train.world_size=2"}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains("train.world_size") && Contains("launcher"));
  }
  SECTION("an unknown sharding names the choices") {
    const auto r = run_ctxext(train_args(dir / "c.yaml", dir / "run", {"train.sharding=zero3"}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains("train.sharding") && Contains("none, optimizer, full"));
  }
}

TEST_CASE("train distributed: torchrun --no-python launches ctxext as is (2 ranks, Gloo)", "[train][dist][torchrun]") {
  const fs::path torchrun = fs::path(CTXEXT_PYTHON).parent_path() / "torchrun";
  if (!fs::exists(torchrun)) {
    WARN("torchrun not found next to " << CTXEXT_PYTHON << ": skipped");
    return;
  }
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const auto r = run_command("timeout -s KILL 180 " + shell_quote(torchrun.string()) +
                             " --nnodes=1 --nproc-per-node=2 --master-port=" + std::to_string(free_port()) +
                             " --no-python " + shell_quote(std::getenv("CTXEXT_BIN")) + " train " +
                             shell_quote((dir / "c.yaml").string()) + " train.micro_batch_size=1 output_dir=" +
                             shell_quote((dir / "run").string()));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("joined 2 ranks (gloo"));
  CHECK(fs::exists(dir / "run" / "export" / "model.safetensors"));
}

namespace {
// Two network namespaces joined by a veth pair: two "hosts" with their own addresses on a private
// link (10.213.<n>.1 and .2, nothing outside this machine). Removed when the object dies.
class TwoHosts {
 public:
  TwoHosts() : suffix_(std::to_string(getpid() % 100000)) {
    const std::string a = "ctxa" + suffix_, b = "ctxb" + suffix_;
    const std::string link = std::to_string(getpid() % 250 + 1);
    address_a_ = "10.213." + link + ".1";
    address_b_ = "10.213." + link + ".2";
    const auto r = run_command("ip netns add " + a + " && ip netns add " + b + " && ip link add va" + suffix_ +
                               " type veth peer name vb" + suffix_ + " && ip link set va" + suffix_ + " netns " + a +
                               " && ip link set vb" + suffix_ + " netns " + b + " && ip -n " + a + " addr add " +
                               address_a_ + "/24 dev va" + suffix_ + " && ip -n " + b + " addr add " + address_b_ +
                               "/24 dev vb" + suffix_ + " && ip -n " + a + " link set va" + suffix_ + " up && ip -n " +
                               b + " link set vb" + suffix_ + " up && ip -n " + a + " link set lo up && ip -n " + b +
                               " link set lo up");
    ok_ = r.exit_code == 0;
    why_ = r.output;
  }
  ~TwoHosts() { run_command("ip netns del ctxa" + suffix_ + "; ip netns del ctxb" + suffix_); }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  std::string exec_a() const { return "ip netns exec ctxa" + suffix_; }
  std::string exec_b() const { return "ip netns exec ctxb" + suffix_; }
  const std::string& address_a() const { return address_a_; }

 private:
  std::string suffix_, address_a_, address_b_, why_;
  bool ok_ = false;
};
}  // namespace

TEST_CASE("train distributed: two hosts (network namespaces joined by veth), nothing assumes localhost",
          "[train][dist][netns]") {
  TwoHosts hosts;
  if (!hosts.ok()) {
    WARN("network namespaces unavailable here (needs root and iproute2): skipped: " << hosts.why());
    return;
  }
  TempDir dir;
  write_text(dir / "c.yaml", tiny_train_yaml("unused"));
  const std::vector<std::string> overrides{"train.micro_batch_size=1", "train.sharding=optimizer"};
  require_all_ok(run_ranks(2, train_args(dir / "c.yaml", dir / "local", overrides), dir.path()));

  RankJob job;
  job.world = 2;
  job.args = train_args(dir / "c.yaml", dir / "two-hosts", overrides);
  job.log_dir = dir.path();
  job.prefix = {{0, hosts.exec_a()}, {1, hosts.exec_b()}};
  job.master_addr = hosts.address_a();
  job.master_port = 29517;  // inside the namespaces every port is free
  const auto ranks = run_ranks(job);
  require_all_ok(ranks);
  CHECK_THAT(ranks[0].log, Contains("store " + hosts.address_a() + ":29517"));
  CHECK(read_text(dir / "local" / "export" / "model.safetensors") ==
        read_text(dir / "two-hosts" / "export" / "model.safetensors"));
}
