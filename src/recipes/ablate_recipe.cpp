#include "recipes/ablate_recipe.h"

#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <set>

#include "core/log.h"
#include "core/progress.h"
#include "core/python_script.h"
#include "core/text_file.h"
#include "data/tokenizer.h"
#include "io/atomic_folder.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/llama_init.h"
#include "recipes/ablation_summary.h"
#include "recipes/train_recipe.h"

namespace ctxext::recipes {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kCellFile = "ablation_cell.json";        // the cell's evaluation: it is finished
constexpr const char* kTrainedFile = "ablation_trained.json";  // its training finished (config, seconds)

// A path in the ablation config: as written if it exists from the working directory, else
// relative to the config file's folder.
std::string resolve(const std::string& path, const std::string& config_path) {
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path)) return path;
  const auto beside = fs::path(config_path).parent_path() / path;
  return fs::exists(beside) ? beside.string() : path;
}

// A list of distinct integers >= min under `key`; {nullopt} when the key is absent.
std::vector<std::optional<int64_t>> read_axis(const ConfigNode& root, const std::string& key, int64_t min) {
  if (!root.has(key)) return {std::nullopt};
  const auto values = root.get<std::vector<int64_t>>(key, {});
  if (values.empty()) root.reject(key, "expected a non-empty list (or leave the key out: the base's value)");
  std::set<int64_t> seen;
  std::vector<std::optional<int64_t>> out;
  for (int64_t v : values) {
    if (v < min) root.reject(key, fmt::format("{} is below {}", v, min));
    if (!seen.insert(v).second) root.reject(key, fmt::format("{} is listed twice", v));
    out.emplace_back(v);
  }
  return out;
}

json read_json_file(const fs::path& file) {
  const auto text = read_text_file(file, "ablation cell record");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON ({}); delete it to redo that cell", file.string(), e.what());
  }
}

// The first line where two YAML texts differ, for a message: "now `x`, was `y`".
std::string first_difference(const std::string& now, const std::string& was) {
  size_t a = 0, b = 0;
  while (a < now.size() || b < was.size()) {
    const size_t ea = std::min(now.find('\n', a), now.size());
    const size_t eb = std::min(was.find('\n', b), was.size());
    const auto line_now = now.substr(a, ea - a);
    const auto line_was = was.substr(b, eb - b);
    if (line_now != line_was) return fmt::format("now `{}`, was `{}`", line_now, line_was);
    a = ea + 1;
    b = eb + 1;
  }
  return "identical";
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
  for (const auto& entry : methods) {
    AblationMethod m;
    m.name = entry.require<std::string>("name");
    if (!names.insert(m.name).second) root.reject("methods", "duplicate method name '" + m.name + "'");
    const auto rope = entry.child("rope");
    for (const auto& key : rope.keys()) m.rope_overrides.push_back("rope." + key + "=" + rope.text(key));
    entry.check_no_unknown_keys();
    if (m.name == "none" && !m.rope_overrides.empty())
      root.reject("methods", "method 'none' is the base model as is: it takes no rope overrides");
    methods_.push_back(std::move(m));
  }
  num_samples_ = read_axis(root, "num_samples", 1);
  seeds_ = read_axis(root, "seeds", 0);

  read_eval_options(root.child("eval"));
  root.check_no_unknown_keys();
  add_cells(root);
}

void AblateRecipe::read_eval_options(const ConfigNode& e) {
  eval_.documents = resolve(e.require<std::string>("documents"), config_path_);
  tokenizer_ = resolve(e.require<std::string>("tokenizer"), config_path_);
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
  if (!fs::is_regular_file(eval_.documents)) e.reject("documents", "no such file");
  if (!fs::is_regular_file(tokenizer_)) e.reject("tokenizer", "no such file");
}

// Every task file is read here, so a bad sample stops the ablation before any training.
void AblateRecipe::read_longbench_options(const ConfigNode& lb) {
  auto& o = eval_.longbench;
  o.tasks = lb.get<std::vector<std::string>>("tasks", {});
  longbench_data_ = resolve(lb.get<std::string>("data", ""), config_path_);
  o.truncate_to = lb.get_int("truncate_to", 0, 0, int64_t{1} << 40);
  o.chat = lb.get<bool>("chat", false);
  longbench_limit_ = lb.get_int("limit", 0, 0, int64_t{1} << 40);
  lb.check_no_unknown_keys();
  if (o.tasks.empty()) return;
  if (longbench_data_.empty()) lb.reject("data", "give LongBench's data folder (or one task's JSONL file)");
  for (const auto& task : o.tasks) {
    try {
      o.samples.push_back(eval::read_longbench_samples(eval::longbench_task_file(longbench_data_, task, o.tasks.size() > 1),
                                                       eval::longbench_task(task), longbench_limit_));
    } catch (const Error& error) {
      lb.reject("tasks", error.what());
    }
  }
}

// The grid in run order: seed, then data size, then method, so an interrupted grid has whole
// seeds of every method first. Every cell's training config is parsed here, once: a bad one stops
// the ablation before the first hour of training is spent, and so does a finished cell whose
// training config changed since.
void AblateRecipe::add_cells(const ConfigNode& root) {
  const auto base = parse_job_config(cell_config(AblationMethod{}, output_dir_, std::nullopt, std::nullopt));
  const auto& t = base.train;
  for (const auto& n : num_samples_)
    if (n && t.epochs > 0 && t.drop_last && *n < t.global_batch_size)
      root.reject("num_samples", fmt::format("{} samples < train.global_batch_size {} with drop_last: no optimizer step",
                                             *n, t.global_batch_size));
  const auto add = [&](size_t method, std::optional<int64_t> n, std::optional<int64_t> seed, const fs::path& dir) {
    auto config = cell_config(methods_[method], dir, n, seed);
    auto job = parse_job_config(config);
    cells_.push_back({method, n, seed, dir, std::move(config), std::move(job)});
  };
  for (size_t i = 0; i < methods_.size(); ++i) {
    if (methods_[i].name != "none") continue;
    // The base from a folder is seed-free: one evaluation. A random preset's weights follow runtime.seed.
    if (!base.model.path.empty()) {
      add(i, std::nullopt, std::nullopt, output_dir_ / "none" / "base");
      continue;
    }
    for (const auto& seed : seeds_)
      add(i, std::nullopt, seed, output_dir_ / "none" / (seed ? fmt::format("seed{}", *seed) : "base"));
  }
  for (const auto& seed : seeds_)
    for (const auto& n : num_samples_) {
      const int64_t size = n ? *n : base.data.num_samples;
      const auto cell = fmt::format("n{}", size > 0 ? std::to_string(size) : "all") + (seed ? fmt::format("-seed{}", *seed) : "");
      for (size_t i = 0; i < methods_.size(); ++i)
        if (methods_[i].name != "none") add(i, size, seed, output_dir_ / methods_[i].name / cell);
    }
  for (const auto& cell : cells_) cell_state(cell);  // fails for a cell trained with another config
}

Config AblateRecipe::cell_config(const AblationMethod& method, const fs::path& dir, std::optional<int64_t> num_samples,
                                 std::optional<int64_t> seed) const {
  auto overrides = base_overrides_;
  overrides.push_back("output_dir=" + dir.string());
  overrides.insert(overrides.end(), method.rope_overrides.begin(), method.rope_overrides.end());
  if (num_samples) overrides.push_back(fmt::format("data.num_samples={}", *num_samples));
  if (seed) {
    overrides.push_back(fmt::format("data.seed={}", *seed));
    overrides.push_back(fmt::format("runtime.seed={}", *seed));
  }
  return Config::load(base_path_, overrides);
}

std::string AblateRecipe::cell_label(const AblationCell& cell) const {
  std::string label = methods_[cell.method].name;
  if (cell.num_samples) label += fmt::format(" n={}", *cell.num_samples);
  if (cell.seed) label += fmt::format(" seed={}", *cell.seed);
  return label;
}

json AblateRecipe::eval_fingerprint() const {
  const auto& p = eval_.passkey;
  const auto& lb = eval_.longbench;
  return {{"documents", eval_.documents},
          {"tokenizer", tokenizer_},
          {"max_tokens", eval_.max_tokens},
          {"ppl_lengths", eval_.ppl_lengths},
          {"stride", eval_.stride},
          {"max_length", eval_.max_length},
          {"passkey", {{"lengths", p.lengths}, {"depths", p.depths}, {"trials", p.trials}, {"seed", p.seed},
                       {"max_new_tokens", p.max_new_tokens}}},
          {"entropy_lengths", eval_.entropy.lengths},
          {"longbench", {{"data", longbench_data_}, {"tasks", lb.tasks}, {"truncate_to", lb.truncate_to},
                         {"chat", lb.chat}, {"limit", longbench_limit_}}}};
}

// finished: its evaluation is on disk for this training config and these evaluation options;
// evaluate: trained (its export is on disk), evaluation missing or run with other options; train:
// nothing finished (a partial training run resumes from its checkpoint). Fails for a cell trained
// with another training config.
AblateRecipe::CellState AblateRecipe::cell_state(const AblationCell& cell) const {
  const auto train_config = cell.config.to_yaml();
  const auto check_training = [&](const fs::path& file) {
    const auto record = read_json_file(file);
    const auto was = record.value("train_config", std::string());
    if (was != train_config)
      fail("{}: cell {} was run with another training config ({}): delete {} to redo it, or give another output_dir",
           file.string(), cell_label(cell), first_difference(train_config, was), cell.dir.string());
    return record;
  };
  const bool trained = methods_[cell.method].name != "none" && fs::exists(cell.dir / kTrainedFile);
  if (trained) check_training(cell.dir / kTrainedFile);
  if (fs::exists(cell.dir / kCellFile)) {
    const auto record = check_training(cell.dir / kCellFile);
    if (record.value("eval_options", json()) == eval_fingerprint()) return CellState::finished;
  }
  return trained ? CellState::evaluate : CellState::train;
}

void AblateRecipe::run() {
  const auto start = std::chrono::steady_clock::now();
  fs::create_directories(output_dir_);
  std::vector<CellState> states;
  int64_t pending = 0;
  for (const auto& cell : cells_) {
    states.push_back(cell_state(cell));
    pending += states.back() != CellState::finished;
  }
  log::info("ablation: {} methods x {} data sizes x {} seeds: {} cells, {} finished before, {} to run", methods_.size(),
            num_samples_.size(), seeds_.size(), cells_.size(), static_cast<int64_t>(cells_.size()) - pending, pending);
  Progress grid("ablation grid", pending);
  int64_t ran = 0;
  json results = json::array();
  for (size_t i = 0; i < cells_.size(); ++i) {
    const auto& cell = cells_[i];
    const auto label = cell_label(cell);
    const auto prefix = fmt::format("ablation cell [{}/{}] {}", i + 1, cells_.size(), label);
    if (states[i] == CellState::finished) {
      log::info("{}: finished before, kept ({})", prefix, (cell.dir / kCellFile).string());
      results.push_back(read_json_file(cell.dir / kCellFile));
      continue;
    }
    const bool none = methods_[cell.method].name == "none";
    fs::create_directories(cell.dir);
    double train_seconds = 0.0;
    if (none) {
      log::info("{}: base model, no training; evaluating", prefix);
    } else if (states[i] == CellState::evaluate) {
      log::info("{}: trained before; evaluating (the evaluation options changed or it was interrupted)", prefix);
      train_seconds = read_json_file(cell.dir / kTrainedFile).value("train_seconds", 0.0);
    } else {
      log::info("{}: training", prefix);
      const auto train_start = std::chrono::steady_clock::now();
      TrainRecipe recipe(cell.config, cell.job);
      recipe.setup();
      recipe.train();
      recipe.save();
      recipe.cleanup();
      train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
      io::write_file_atomic(cell.dir / kTrainedFile,
                            json{{"train_config", cell.config.to_yaml()}, {"train_seconds", train_seconds}}.dump(2) + "\n");
      log::info("{}: evaluating", prefix);
    }
    auto result = evaluate(cell, none ? fs::path() : cell.dir / "export");
    result["train_seconds"] = train_seconds;
    io::write_file_atomic(cell.dir / kCellFile, result.dump(2) + "\n");
    results.push_back(std::move(result));
    grid.line(++ran, label + " done");
  }
  grid.finish();
  write_results(results, ran, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

json AblateRecipe::evaluate(const AblationCell& cell, const fs::path& model_dir) const {
  const auto& method = methods_[cell.method];
  const auto eval_start = std::chrono::steady_clock::now();
  model::LlamaForCausalLM model{nullptr};
  if (!model_dir.empty()) {
    model = model::load_hf_model(model_dir);
  } else {
    // "none": the base exactly as training would have started from it.
    const auto& job = cell.job;
    model = job.model.path.empty() ? model::make_random_llama(job.model.preset_config, static_cast<uint64_t>(job.runtime.seed))
                                   : model::load_hf_model(job.model.path);
  }
  const auto& rope = model->config().rope;
  const auto tokenizer = data::Tokenizer::load(tokenizer_);
  auto options = eval_;
  const auto label = cell_label(cell);
  options.lengths_name = fmt::format("{}: cell {}: eval length", config_path_, label);
  options.truncate_name = fmt::format("{}: cell {}: eval.longbench.truncate_to", config_path_, label);
  options.progress_label = label;
  auto out = eval::to_json(eval::run_eval_suite(*model, tokenizer, options));
  out.update({{"name", method.name},
              {"num_samples", cell.num_samples ? json(*cell.num_samples) : json()},
              {"seed", cell.seed ? json(*cell.seed) : json()},
              {"dir", cell.dir.string()},
              {"rope_overrides", method.rope_overrides},
              {"rope_type", rope.type},
              {"extended_context", rope.extended_context()},
              {"eval_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count()},
              {"train_config", cell.config.to_yaml()},
              {"eval_options", eval_fingerprint()}});
  return out;
}

void AblateRecipe::write_results(const json& cells, int64_t ran, double wall_seconds) const {
  const auto axis = [](const std::vector<std::optional<int64_t>>& values) {
    json out = json::array();
    for (const auto& v : values) out.push_back(v ? json(*v) : json());
    return out;
  };
  json slim_cells = cells;
  for (auto& c : slim_cells) c.erase("train_config");  // each cell folder keeps it
  const json results{{"config", config_path_},
                     {"base", base_path_},
                     {"num_samples", axis(num_samples_)},
                     {"seeds", axis(seeds_)},
                     {"confidence", kAblationConfidence},
                     {"wall_seconds", wall_seconds},
                     {"eval", eval_fingerprint()},
                     {"methods", summarize_ablation(cells)},
                     {"cells", slim_cells}};
  io::write_file_atomic(output_dir_ / "results.json", results.dump(2) + "\n");

  const std::string md = fmt::format(
      "# Ablation: {}\n\nBase training config: `{}`; {} cells ({} of them run in this invocation's {:.0f} s). "
      "Perplexity: sliding windows over `{}` (first {} tokens, stride {}). Passkey: accuracy over depths {}, "
      "{} trials each.{}\n\n{}",
      config_path_, base_path_, cells.size(), ran, wall_seconds, eval_.documents, eval_.max_tokens,
      eval_.stride > 0 ? std::to_string(eval_.stride) : "= window", json(eval_.passkey.depths).dump(), eval_.passkey.trials,
      eval_.longbench.tasks.empty() ? "" : " LB: LongBench score (100 x mean over samples, LongBench's metric).",
      ablation_tables(results["methods"]));
  io::write_file_atomic(output_dir_ / "results.md", md);
  std::cout << md << std::flush;
  log::info("results: {} and {}", (output_dir_ / "results.json").string(), (output_dir_ / "results.md").string());

  if (!plots_) return;
  run_python_script("plot_ablation.py", {(output_dir_ / "results.json").string(), output_dir_.string()},
                    output_dir_.string() + ": results.json and results.md are written");
}

}  // namespace ctxext::recipes
