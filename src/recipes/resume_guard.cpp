#include "recipes/resume_guard.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "core/text_file.h"
#include "core/log.h"
#include "train/checkpoint_store.h"

namespace ctxext::recipes {
namespace fs = std::filesystem;
namespace {

// What a resumed run may change, by key path. The first row whose pattern matches decides ("a.b" is
// that key, "a." every key below a). A key no row matches changes what was trained: a key added
// later refuses until someone decides otherwise here.
struct ResumeRule {
  const char* pattern;
  bool changes_training;
};
constexpr ResumeRule kResumeRules[] = {
    // How far the run goes. Raising either extends the run: the steps already taken are the same
    // ones a longer run takes first (only a step-dependent lr schedule differs, which is warned
    // about). Going below the checkpoint's step is refused by check_resume on the resolved steps.
    {"train.steps", false},
    {"train.epochs", false},
    {"train.nan_policy", false},                // what happens at a non-finite step, not the math
    {"train.activation_checkpointing", false},  // recomputes activations: same math, less memory
    {"train.eval_every", false},                // held-out eval loss: scored, never trained on
    {"data.eval_path", false},
    {"checkpoint.", false},                     // cadence and retention of checkpoints
    {"export.", false},                         // the HF folder written after training
    {"runtime.threads", false},                 // CPU threads
    {"runtime.device", false},                  // a precision change through `auto` shows on train.precision
    {"runtime.dist_timeout_s", false},          // how long a collective may wait
    {"output_dir", false},
    {"resume", false},
    {"resume_allow_changed", false},
    {"model.dtype", false},  // removed (never had an effect); checkpoints written before still name it
    {"model.", true},        // base weights and shape
    {"rope.", true},         // the position encoding trained for
    {"data.", true},         // the samples: file, tokenizer, selection, order, lengths
    {"train.", true},        // batch arithmetic, optimizer, schedule, precision, drop_last, sharding
    {"runtime.seed", true},  // initialisation and sampling
};

bool matches(const std::string& pattern, const std::string& key) {
  if (!pattern.empty() && pattern.back() == '.') return key.rfind(pattern, 0) == 0;
  return key == pattern;
}

// Values as the YAML says them, for configs that no longer parse (a moved model folder, a renamed key).
void written_values(const YAML::Node& node, const std::string& path, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      written_values(kv.second, path.empty() ? key : path + "." + key, out);
    }
  } else if (node.IsScalar()) {
    out[path] = node.Scalar();
  } else if (node.IsSequence()) {
    YAML::Emitter flow;
    flow << YAML::Flow << node;
    out[path] = flow.c_str();
  }
}

std::map<std::string, std::string> written_values(const Config& config) {
  std::map<std::string, std::string> out;
  written_values(YAML::Load(config.to_yaml()), "", out);
  return out;
}

// A value for a one-line message: newlines escaped, long values cut.
std::string shown(std::string value) {
  for (size_t at = 0; (at = value.find('\n', at)) != std::string::npos; at += 2) value.replace(at, 1, "\\n");
  constexpr size_t kMax = 60;
  if (value.size() > kMax) value = value.substr(0, kMax) + "...";
  return "'" + value + "'";
}

std::string read_file_text(const fs::path& file) {
  try {
    return read_text_file(file, "the config this checkpoint was trained with");
  } catch (const Error& e) {
    fail("{}; resuming it cannot be checked: use a new output_dir, or resume=none to start over", e.what());
  }
}

}  // namespace

bool same_config_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double x = std::strtod(a.c_str(), &end_a);
  const double y = std::strtod(b.c_str(), &end_b);
  return !a.empty() && !b.empty() && *end_a == '\0' && *end_b == '\0' && x == y;
}

bool changes_training(const std::string& key) {
  for (const auto& rule : kResumeRules)
    if (matches(rule.pattern, key)) return rule.changes_training;
  return true;
}

std::map<std::string, std::string> resolved_job_values(const Config& config) {
  const Config fresh = Config::parse(config.to_yaml(), config.source_name());
  parse_job_config(fresh);
  auto values = fresh.read_values();
  // As TrainRecipe::setup resolves it: auto is bf16 on CUDA, fp32 on the CPU.
  const auto precision = values.find("train.precision");
  if (precision != values.end() && precision->second == "auto") {
    const bool cuda = values["runtime.device"] == "cuda";
    precision->second = cuda ? "auto (bf16 on cuda)" : "auto (fp32 on cpu)";
  }
  return values;
}

std::vector<ConfigChange> config_changes(const std::map<std::string, std::string>& before,
                                         const std::map<std::string, std::string>& after) {
  std::map<std::string, ConfigChange> changes;
  for (const auto& [key, value] : before) {
    const auto it = after.find(key);
    const std::string now = it == after.end() ? "(not set)" : it->second;
    if (!same_config_value(value, now)) changes[key] = {key, value, now};
  }
  for (const auto& [key, value] : after)
    if (!before.count(key)) changes[key] = {key, "(not set)", value};
  std::vector<ConfigChange> out;
  for (auto& [key, change] : changes) out.push_back(std::move(change));
  return out;
}

ResumeDecision check_resume(const fs::path& checkpoint, const Config& config, const JobConfig& job, int64_t steps) {
  if (!fs::exists(checkpoint / train::kCommitMarker))
    fail("{}: not a complete checkpoint (no {} marker)", checkpoint.string(), train::kCommitMarker);
  const fs::path stored_file = checkpoint / "config.yaml";
  const Config stored = Config::parse(read_file_text(stored_file), stored_file.string());
  std::map<std::string, std::string> before, after;
  try {
    before = resolved_job_values(stored);
    after = resolved_job_values(config);
  } catch (const Error& e) {
    log::warn("{}; comparing the two configs as written", e.what());
    before = written_values(stored);
    after = written_values(config);
  }

  // 1. Nothing that changes what was trained, unless listed in resume_allow_changed.
  std::vector<std::string> refused, refused_keys;
  std::vector<ConfigChange> length;
  for (const auto& change : config_changes(before, after)) {
    const bool allowed = std::count(job.resume_allow_changed.begin(), job.resume_allow_changed.end(), change.key) > 0;
    if (change.key == "train.steps" || change.key == "train.epochs") length.push_back(change);
    if (!changes_training(change.key)) continue;
    if (allowed) {
      log::warn("{}: resuming with {} changed from {} to {} (resume_allow_changed)", checkpoint.string(), change.key,
                shown(change.before), shown(change.after));
      continue;
    }
    refused.push_back(fmt::format("{} was {}, now {}", change.key, shown(change.before), shown(change.after)));
    refused_keys.push_back(change.key);
  }
  if (!refused.empty())
    fail("{}: this run's config changes what the checkpoint was trained with: {}. Use a new output_dir, or "
         "resume=none to start over (or, if the change is deliberate, resume_allow_changed=[{}])",
         checkpoint.string(), fmt::join(refused, "; "), fmt::join(refused_keys, ","));

  // 2. A run goes on or stops; it cannot go back.
  const int64_t at = train::read_trainer_state(checkpoint).step;
  std::vector<std::string> length_text;
  for (const auto& change : length)
    length_text.push_back(fmt::format("{} {} -> {}", change.key, change.before, change.after));
  if (at > steps)
    fail("{}: the checkpoint is at step {} but this run stops at step {}{}: a run cannot go back. Use a new "
         "output_dir, or resume=none to start over", checkpoint.string(), at, steps,
         length_text.empty() ? "" : fmt::format(" ({})", fmt::join(length_text, ", ")));
  if (at < steps && !length.empty() && after["train.schedule"] != "constant")
    log::warn("{}: the {} lr schedule now spans {} steps ({}); the {} steps already trained followed the old length, "
              "so the result differs from a fresh {}-step run", checkpoint.string(), after["train.schedule"], steps,
              fmt::join(length_text, ", "), at, steps);
  if (at < steps) return ResumeDecision::resume;

  // 3. At the last step: complete when it is this output_dir's newest checkpoint and the export
  //    (written after the final checkpoint) is newer than it.
  std::error_code ec;
  const auto latest = train::find_latest_checkpoint(job.output_dir);
  if (!latest || !fs::equivalent(*latest, checkpoint, ec)) return ResumeDecision::resume;
  const fs::path exported = fs::path(job.output_dir) / "export";
  if (job.export_options.enabled) {
    const auto exported_at = fs::last_write_time(exported, ec);
    if (ec) return ResumeDecision::resume;
    const auto checkpointed_at = fs::last_write_time(checkpoint / train::kCommitMarker, ec);
    if (ec || exported_at < checkpointed_at) return ResumeDecision::resume;
  }
  log::info("{}: already complete at step {} ({}{}); nothing to train. Raise train.steps or train.epochs to train "
            "on; resume=none or a new output_dir starts over", job.output_dir, at, latest->string(),
            job.export_options.enabled ? ", export " + exported.string() : "");
  return ResumeDecision::already_complete;
}

}  // namespace ctxext::recipes
