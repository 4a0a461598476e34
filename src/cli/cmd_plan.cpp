// ctxext plan CONFIG [key=value ...] [--gpus N] [--gpu-memory 80GB] [--host-memory 128GB]: the
// predicted per-rank memory of the config's training step (train/memory_plan.h), whether it fits,
// and which single knob would make it fit. Reads only the model's shape (config.json or the preset).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <regex>

#include "cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "model/hf_config.h"
#include "recipes/job_config.h"
#include "recipes/job_plan.h"
#include "train/memory_plan.h"

namespace ctxext::cli {

namespace {

constexpr int64_t kRanksPerNodeMax = 8;

// "80GB", "141GiB", "512MB", "1.5TB", "80" (GB): bytes. flag names the option in the error.
double parse_size(const std::string& flag, const std::string& text) {
  static const std::regex pattern(R"(\s*([0-9]+(?:\.[0-9]+)?)\s*(|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*)",
                                  std::regex::icase);
  std::smatch m;
  if (!std::regex_match(text, m, pattern))
    fail("{} {}: expected a size such as 80GB, 141GiB or 512MB", flag, text.empty() ? "''" : text);
  const double value = std::stod(m[1]);
  std::string unit = m[2];
  for (auto& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const double scale = unit.empty() || unit == "GB" ? 1e9
                       : unit == "B"                ? 1
                       : unit == "KB"               ? 1e3
                       : unit == "MB"               ? 1e6
                       : unit == "TB"               ? 1e12
                       : unit == "KIB"              ? 1024.0
                       : unit == "MIB"              ? std::pow(1024.0, 2)
                       : unit == "GIB"              ? std::pow(1024.0, 3)
                                                    : std::pow(1024.0, 4);
  if (!(value > 0)) fail("{} {}: must be more than 0", flag, text);
  return value * scale;
}

std::string gb(double bytes) { return bytes == 0 ? "-" : fmt::format("{:.2f} GB", bytes / 1e9); }

struct Budget {
  double gpu = 80e9, host = 128e9;
  int64_t ranks_per_node = 1;
};

// The host budget is per node: every rank on it holds its own host memory.
std::string why_not(const train::MemoryPlan& plan, const Budget& budget) {
  std::vector<std::string> reasons;
  if (plan.device_peak > budget.gpu)
    reasons.push_back(fmt::format("device peak {} ({}) > {} per GPU", gb(plan.device_peak), plan.device_peak_phase,
                                  gb(budget.gpu)));
  if (plan.host_peak * budget.ranks_per_node > budget.host)
    reasons.push_back(fmt::format("host peak {} x {} rank(s) per node ({}) > {}", gb(plan.host_peak),
                                  budget.ranks_per_node, plan.host_peak_phase, gb(budget.host)));
  return fmt::format("{}", fmt::join(reasons, "; "));
}

bool refused(const train::MemoryPlanInput& in) {  // make_weight_update refuses offload + none on several ranks
  return in.offload_optimizer && in.sharding == train::Sharding::none && in.world_size > 1;
}

bool fits(const train::MemoryPlanInput& in, const Budget& budget) {
  return !refused(in) && why_not(train::plan_memory(in), budget).empty();
}

// Each knob alone, applied to the config: the ones after which the step fits.
std::vector<std::string> fitting_knobs(const train::MemoryPlanInput& in, Budget budget) {
  std::vector<std::string> knobs;
  if (in.sharding != train::Sharding::full) {
    auto k = in;
    k.sharding = train::Sharding::full;
    if (fits(k, budget)) knobs.push_back("train.sharding=full");
  }
  if (!in.offload_optimizer) {
    auto k = in;
    k.offload_optimizer = true;
    if (fits(k, budget)) knobs.push_back("train.offload=optimizer");
  }
  if (!in.activation_checkpointing) {
    auto k = in;
    k.activation_checkpointing = true;
    if (fits(k, budget)) knobs.push_back("train.activation_checkpointing=true");
  }
  for (int64_t mb = in.micro_batch - 1; mb >= 1; --mb) {
    auto k = in;
    k.micro_batch = mb;
    if (fits(k, budget)) {
      knobs.push_back(fmt::format("train.micro_batch_size={}", mb));
      break;
    }
  }
  for (int64_t gpus = in.world_size * 2; gpus <= 1024; gpus *= 2) {
    auto k = in;
    k.world_size = gpus;
    Budget more = budget;
    more.ranks_per_node = std::min(gpus, kRanksPerNodeMax);
    if (fits(k, more)) {
      knobs.push_back(fmt::format("--gpus {}", gpus));
      break;
    }
  }
  return knobs;
}

void run_plan(const std::string& config_path, const std::vector<std::string>& overrides, int64_t gpus,
              const std::string& gpu_memory, const std::string& host_memory) {
  Budget budget;
  budget.gpu = parse_size("--gpu-memory", gpu_memory);
  budget.host = parse_size("--host-memory", host_memory);
  budget.ranks_per_node = std::min(gpus, kRanksPerNodeMax);
  // The data is never read: a placeholder path lets configs whose data.path is left to the command
  // line plan (a data.path among the overrides still wins).
  std::vector<std::string> all_overrides{"data.path=unused-by-plan"};
  all_overrides.insert(all_overrides.end(), overrides.begin(), overrides.end());
  const Config config = Config::load(config_path, all_overrides);
  const recipes::JobConfig job = recipes::parse_job_config(config);
  model::LlamaConfig shape = job.model.preset_config;
  std::string model_name = "preset " + job.model.preset;
  if (!job.model.path.empty()) {
    shape = model::read_hf_config(std::filesystem::path(job.model.path) / "config.json");
    model_name = job.model.path;
  }
  const train::MemoryPlanInput in = recipes::memory_plan_input(job, shape, gpus, /*cuda=*/true);  // auto: bf16
  if (refused(in))
    fail("{}: train.offload: optimizer with train.sharding: none on {} GPUs is refused by the trainer (a whole "
         "optimizer copy per rank in host memory): use train.sharding=optimizer or full",
         config.source_name(), gpus);
  const train::MemoryPlan plan = train::plan_memory(in);
  const auto& c = in.model;

  std::cout << fmt::format("model     {}: {} parameters ({:.2f} B), {} layers, hidden {}, intermediate {}, {} heads ({} "
                           "key/value), vocab {}\n",
                           model_name, plan.parameters, plan.parameters / 1e9, c.num_hidden_layers, c.hidden_size,
                           c.intermediate_size, c.num_attention_heads, c.num_key_value_heads, c.vocab_size)
            << fmt::format("step      {}\n", recipes::memory_plan_settings(in))
            << fmt::format("\nper rank (GB = 1e9 bytes; each row at its largest)\n{:<48} {:>12} {:>12}\n", "component",
                           "device", "host");
  for (const auto& component : plan.components)
    std::cout << fmt::format("{:<48} {:>12} {:>12}\n", component.name, gb(component.device), gb(component.host));
  std::cout << fmt::format("\n{:<48} {:>12} {:>12}\n", "phase (everything live at its worst moment)", "device", "host");
  for (const auto& phase : plan.phases)
    std::cout << fmt::format("{:<48} {:>12} {:>12}\n", phase.name, gb(phase.device), gb(phase.host));
  std::cout << fmt::format("{:<48} {:>12} {:>12}\n", "peak", gb(plan.device_peak), gb(plan.host_peak))
            << fmt::format("{:<48} {:>12} {:>12}\n",
                           fmt::format("budget (host: per node, {} rank(s) on it)", budget.ranks_per_node),
                           gb(budget.gpu), gb(budget.host));
  const std::string reasons = why_not(plan, budget);
  if (reasons.empty()) {
    std::cout << fmt::format("\nfits ({:.1f} GB of {:.1f} GB device headroom)\n", (budget.gpu - plan.device_peak) / 1e9,
                             budget.gpu / 1e9);
    return;
  }
  const auto knobs = fitting_knobs(in, budget);
  std::cout << fmt::format("\ndoes not fit: {}\n", reasons)
            << (knobs.empty() ? std::string("no single knob (sharding full, offload optimizer, activation "
                                             "checkpointing, a smaller micro batch, more GPUs) makes it fit\n")
                              : fmt::format("would fit with any one of: {}\n", fmt::join(knobs, ", ")));
}

}  // namespace

void add_plan(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plan", "Predict per-rank GPU and host memory of a training config (no weights loaded) and say whether it fits");
  cmd->footer(
      "Example:\n"
      "  ctxext plan configs/llama2-7b-chat/yarn.yaml model.path=/models/Llama-2-7b-chat-hf train.offload=optimizer\n"
      "The model's shape comes from model.path's config.json or model.preset; the sequence length from\n"
      "data.max_seq_len; micro batch, precision (auto = bf16 on a GPU), sharding, offload and activation\n"
      "checkpointing from train:. Components are counted from the trainer's allocations; rows marked\n"
      "(estimate) are ATen temporaries estimated from the op sequence (docs/perf.md, Memory planner).");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto gpus = std::make_shared<int64_t>(1);
  auto gpu_memory = std::make_shared<std::string>("80GB");
  auto host_memory = std::make_shared<std::string>("128GB");
  cmd->add_option("config", *config_path, "YAML training config")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", *overrides, "key.path=value overrides, as for `ctxext train`");
  cmd->add_option("--gpus", *gpus, "data-parallel ranks (torchrun's WORLD_SIZE), one GPU each")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--gpu-memory", *gpu_memory, "memory of one GPU, e.g. 80GB, 141GB, 80GiB (GB = 1e9 bytes)")
      ->capture_default_str();
  cmd->add_option("--host-memory", *host_memory,
                  "host memory of one node, shared by its ranks (min(--gpus, 8) per node), e.g. 128GB, 2TB")
      ->capture_default_str();
  cmd->callback([=] { run_plan(*config_path, *overrides, *gpus, *gpu_memory, *host_memory); });
}

}  // namespace ctxext::cli
