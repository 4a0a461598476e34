#include "recipes/ablate_recipe.h"

#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>

#include "core/log.h"
#include "core/python_script.h"
#include "data/tokenizer.h"
#include "eval/eval_report.h"
#include "io/atomic_folder.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/llama_init.h"
#include "recipes/job_config.h"
#include "recipes/train_recipe.h"

namespace ctxext::recipes {

namespace fs = std::filesystem;

namespace {

// A path in the ablation config: as written if it exists from the working directory, else
// relative to the config file's folder.
std::string resolve(const std::string& path, const std::string& config_path) {
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path)) return path;
  const auto beside = fs::path(config_path).parent_path() / path;
  return fs::exists(beside) ? beside.string() : path;
}

}  // namespace

AblateRecipe::AblateRecipe(const std::string& config_path, const std::vector<std::string>& overrides)
    : config_path_(config_path) {
  const auto config = Config::load(config_path, overrides);
  const auto root = config.root();
  base_path_ = resolve(root.require<std::string>("base"), config_path);
  if (!fs::is_regular_file(base_path_)) root.reject("base", "no such file: " + base_path_);
  base_overrides_ = root.get<std::vector<std::string>>("base_overrides", {});
  output_dir_ = root.require<std::string>("output_dir");
  plots_ = root.get<bool>("plots", true);

  const auto methods = root.list("methods");
  if (methods.empty()) root.reject("methods", "expected a non-empty list of {name, rope} entries");
  std::set<std::string> names;
  std::vector<AblationMethod> parsed;
  for (const auto& entry : methods) {
    AblationMethod m;
    m.name = entry.require<std::string>("name");
    if (!names.insert(m.name).second) root.reject("methods", "duplicate method name '" + m.name + "'");
    const auto rope = entry.child("rope");
    for (const auto& key : rope.keys()) m.rope_overrides.push_back("rope." + key + "=" + rope.text(key));
    entry.check_no_unknown_keys();
    if (m.name == "none" && !m.rope_overrides.empty())
      root.reject("methods", "method 'none' is the base model as is: it takes no rope overrides");
    parsed.push_back(std::move(m));
  }

  const auto e = root.child("eval");
  eval_.documents = resolve(e.require<std::string>("documents"), config_path);
  tokenizer_ = resolve(e.require<std::string>("tokenizer"), config_path);
  eval_.max_tokens = e.get_int("max_tokens", 4096, 2, int64_t{1} << 40);
  eval_.ppl_lengths = e.get<std::vector<int64_t>>("ppl_lengths", {});
  eval_.stride = e.get_int("stride", 0, 0, int64_t{1} << 40);
  eval_.entropy.lengths = e.get<std::vector<int64_t>>("entropy_lengths", {});
  eval_.max_length = e.get_int("max_length", 0, 0, int64_t{1} << 40);
  const auto p = e.child("passkey");
  eval_.passkey.lengths = p.get<std::vector<int64_t>>("lengths", {});
  eval_.passkey.depths = p.get<std::vector<double>>("depths", {0.0, 0.5, 1.0});
  eval_.passkey.trials = p.get_int("trials", 3, 1, 100000);
  eval_.passkey.seed = static_cast<uint64_t>(p.get_int("seed", 0, 0, int64_t{1} << 62));
  eval_.passkey.max_new_tokens = p.get_int("max_new_tokens", 8, 6, 4096);
  for (const auto& length : eval_.ppl_lengths)
    if (length > eval_.max_tokens) e.reject("ppl_lengths", fmt::format("{} exceeds eval.max_tokens {}", length, eval_.max_tokens));
  p.check_no_unknown_keys();
  read_longbench_options(e.child("longbench"));
  e.check_no_unknown_keys();
  root.check_no_unknown_keys();
  if (!fs::is_regular_file(eval_.documents)) e.reject("documents", "no such file");
  if (!fs::is_regular_file(tokenizer_)) e.reject("tokenizer", "no such file");

  // Every method's training config is parsed here, once: a bad one stops the ablation before the
  // first hour of training is spent, and training and evaluation use what was parsed.
  for (auto& m : parsed) {
    auto config = method_config(m);
    auto job = parse_job_config(config);
    methods_.push_back({std::move(m), std::move(config), std::move(job)});
  }
}

// Every task file is read here, so a bad sample stops the ablation before any training.
void AblateRecipe::read_longbench_options(const ConfigNode& lb) {
  auto& o = eval_.longbench;
  o.tasks = lb.get<std::vector<std::string>>("tasks", {});
  const auto data = resolve(lb.get<std::string>("data", ""), config_path_);
  o.truncate_to = lb.get_int("truncate_to", 0, 0, int64_t{1} << 40);
  o.chat = lb.get<bool>("chat", false);
  const int64_t limit = lb.get_int("limit", 0, 0, int64_t{1} << 40);
  lb.check_no_unknown_keys();
  if (o.tasks.empty()) return;
  if (data.empty()) lb.reject("data", "give LongBench's data folder (or one task's JSONL file)");
  for (const auto& task : o.tasks) {
    try {
      o.samples.push_back(eval::read_longbench_samples(eval::longbench_task_file(data, task, o.tasks.size() > 1),
                                                       eval::longbench_task(task), limit));
    } catch (const Error& error) {
      lb.reject("tasks", error.what());
    }
  }
}

Config AblateRecipe::method_config(const AblationMethod& method) const {
  auto overrides = base_overrides_;
  overrides.push_back("output_dir=" + (output_dir_ / method.name).string());
  overrides.insert(overrides.end(), method.rope_overrides.begin(), method.rope_overrides.end());
  return Config::load(base_path_, overrides);
}

void AblateRecipe::run() {
  fs::create_directories(output_dir_);
  nlohmann::json results{{"config", config_path_}, {"base", base_path_}, {"methods", nlohmann::json::array()}};
  for (size_t i = 0; i < methods_.size(); ++i) {
    const auto& run = methods_[i];
    const auto& method = run.method;
    log::info("ablation [{}/{}] method {}: {}", i + 1, methods_.size(), method.name,
              method.name == "none" ? "base model, no training" : "training");
    double train_seconds = 0.0;
    fs::path model_dir;
    if (method.name != "none") {
      const auto start = std::chrono::steady_clock::now();
      TrainRecipe recipe(run.config, run.job);
      recipe.setup();
      recipe.train();
      recipe.save();
      recipe.cleanup();
      train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      model_dir = recipe.output_dir() / "export";
    }
    log::info("ablation [{}/{}] method {}: evaluating", i + 1, methods_.size(), method.name);
    results["methods"].push_back(evaluate(run, model_dir, train_seconds));
  }
  write_results(results);
}

nlohmann::json AblateRecipe::evaluate(const MethodRun& run, const fs::path& model_dir, double train_seconds) {
  const auto& method = run.method;
  model::LlamaForCausalLM model{nullptr};
  if (!model_dir.empty()) {
    model = model::load_hf_model(model_dir);
  } else {
    // "none": the base exactly as training would have started from it.
    const auto& job = run.job;
    model = job.model.path.empty() ? model::make_random_llama(job.model.preset_config, static_cast<uint64_t>(job.runtime.seed))
                                   : model::load_hf_model(job.model.path);
  }
  const auto& rope = model->config().rope;
  const auto tokenizer = data::Tokenizer::load(tokenizer_);
  auto options = eval_;
  options.lengths_name = fmt::format("{}: method {}: eval length", config_path_, method.name);
  options.truncate_name = fmt::format("{}: method {}: eval.longbench.truncate_to", config_path_, method.name);
  options.progress_label = method.name;
  auto out = eval::to_json(eval::run_eval_suite(*model, tokenizer, options));
  out.update({{"name", method.name}, {"rope_overrides", method.rope_overrides}, {"rope_type", rope.type},
              {"extended_context", rope.extended_context()}, {"train_seconds", train_seconds}});
  return out;
}

void AblateRecipe::write_results(const nlohmann::json& results) const {
  io::write_file_atomic(output_dir_ / "results.json", results.dump(2) + "\n");

  // One table: a row per method, perplexity and mean passkey accuracy (over depths) per length.
  std::vector<std::string> header = {"method", "rope", "train s"};
  for (int64_t l : eval_.ppl_lengths) header.push_back(fmt::format("ppl@{}", l));
  for (int64_t l : eval_.passkey.lengths) header.push_back(fmt::format("passkey@{}", l));
  for (const auto& task : eval_.longbench.tasks) header.push_back("LB " + task);
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : results["methods"]) {
    std::vector<std::string> row = {m["name"].get<std::string>(), m["rope_type"].get<std::string>(),
                                    fmt::format("{:.1f}", m["train_seconds"].get<double>())};
    for (const auto& p : m["ppl"]) row.push_back(fmt::format("{:.3f}", p["ppl"].get<double>()));
    for (int64_t l : eval_.passkey.lengths) {
      double sum = 0.0;
      int64_t n = 0;
      for (const auto& c : m["passkey"])
        if (c["length"].get<int64_t>() == l) sum += c["accuracy"].get<double>(), ++n;
      row.push_back(fmt::format("{:.2f}", n > 0 ? sum / static_cast<double>(n) : 0.0));
    }
    for (const auto& r : m["longbench"]) row.push_back(fmt::format("{:.2f}", r["score"].get<double>()));
    rows.push_back(std::move(row));
  }
  const std::string md = fmt::format(
      "# Ablation: {}\n\nBase training config: `{}`. Perplexity: sliding windows over `{}` (first {} tokens, "
      "stride {}). Passkey: accuracy averaged over depths {}, {} trials each.{}\n\n{}",
      config_path_, base_path_, eval_.documents, eval_.max_tokens, eval_.stride > 0 ? std::to_string(eval_.stride) : "= window",
      nlohmann::json(eval_.passkey.depths).dump(), eval_.passkey.trials,
      eval_.longbench.tasks.empty() ? "" : " LB: LongBench score (100 x mean over samples, LongBench's metric).",
      eval::markdown_table(header, rows));
  io::write_file_atomic(output_dir_ / "results.md", md);
  std::cout << md << std::flush;
  log::info("results: {} and {}", (output_dir_ / "results.json").string(), (output_dir_ / "results.md").string());

  if (!plots_) return;
  run_python_script("plot_ablation.py", {(output_dir_ / "results.json").string(), output_dir_.string()},
                    output_dir_.string() + ": results.json and results.md are written");
}

}  // namespace ctxext::recipes
