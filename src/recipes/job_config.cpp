#include "recipes/job_config.h"

#include <fmt/format.h>

#include <filesystem>

#include "model/hf_config.h"

namespace ctxext::recipes {

RuntimeOptions parse_runtime_options(const ConfigNode& node) {
  RuntimeOptions o;
  o.threads = static_cast<int>(node.get_int("threads", 0, 0, 4096));
  o.device = node.get_choice("device", "cpu", {"cpu", "cuda"}) == "cuda" ? torch::kCUDA : torch::kCPU;
  o.seed = node.get_int("seed", 0, 0, INT64_MAX);
  o.dist_timeout_s = node.get_int("dist_timeout_s", o.dist_timeout_s, 1, 7 * 24 * 3600);
  node.check_no_unknown_keys();
  return o;
}

ExportSectionOptions parse_export_options(const ConfigNode& node) {
  ExportSectionOptions o;
  o.enabled = node.get<bool>("enabled", o.enabled);
  o.max_shard_bytes = node.get_int("max_shard_bytes", o.max_shard_bytes, 1 << 20, INT64_MAX);
  node.check_no_unknown_keys();
  return o;
}

rope::RopeOptions model_rope_defaults(const ModelOptions& model) {
  if (model.path.empty()) return model.preset_config.rope;
  const auto file = std::filesystem::path(model.path) / "config.json";
  return std::filesystem::exists(file) ? model::read_hf_config(file).rope : rope::RopeOptions{};
}

JobConfig parse_job_config(const Config& config) {
  const ConfigNode root = config.root();
  JobConfig job;
  job.model = parse_model_options(root.child("model"));
  job.rope_given = root.has("rope");
  job.rope = rope::parse_rope_options(root.child("rope"), model_rope_defaults(job.model));
  job.data = data::parse_data_options(root.child("data"));
  job.train = train::parse_train_options(root.child("train"));
  job.checkpoint = train::parse_checkpoint_options(root.child("checkpoint"));
  job.export_options = parse_export_options(root.child("export"));
  job.runtime = parse_runtime_options(root.child("runtime"));
  // The held-out eval needs both keys: one alone would be silently ignored.
  if (job.train.eval_every > 0 && job.data.eval_path.empty())
    root.child("train").reject("eval_every", "needs data.eval_path, the held-out file to score (or train.eval_every = 0)");
  if (job.train.eval_every == 0 && !job.data.eval_path.empty())
    root.child("data").reject("eval_path", "is scored only when train.eval_every = N > 0 (every N optimizer steps); "
                                           "set train.eval_every or remove data.eval_path");
  job.output_dir = root.get<std::string>("output_dir", "runs/default");
  if (job.output_dir.empty()) root.reject("output_dir", "must name a folder");
  job.resume = root.get<std::string>("resume", job.resume);
  if (job.resume != "auto" && job.resume != "none" && job.resume.empty())
    root.reject("resume", "must be auto, none or a checkpoint folder");
  job.resume_allow_changed = root.get<std::vector<std::string>>("resume_allow_changed", {});
  const auto known = config.read_values();  // every key read above, so this is last
  for (const auto& key : job.resume_allow_changed)
    if (!known.count(key)) root.reject("resume_allow_changed", fmt::format("'{}' is not a config key", key));
  root.check_no_unknown_keys();
  return job;
}

std::string JobConfig::summary() const {
  std::string length;  // as configured; the steps an epoch makes need the data (train/train_plan.h)
  if (train.epochs > 0) length += fmt::format(" epochs={}", train.epochs);
  if (train.steps > 0) length += fmt::format(" steps={}", train.steps);
  return fmt::format("model={} rope={} x{}{} global_batch={} output_dir={}",
                     model.path.empty() ? "preset:" + model.preset : model.path, rope.type, rope.factor, length,
                     train.global_batch_size, output_dir);
}

std::string JobConfig::tokenizer_path() const {
  if (!data.tokenizer.empty()) return data.tokenizer;
  if (!model.path.empty()) return (std::filesystem::path(model.path) / "tokenizer.model").string();
  return "";
}

}  // namespace ctxext::recipes
