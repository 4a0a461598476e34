// ctxext eval passkey | ppl-sweep | entropy | longbench: the long-context evaluations of eval/ on an HF model
// folder, optionally with another RoPE method applied on the fly. Each prints a table, or with
// --json one JSON line per result; bad inputs exit 2 with one line naming the flag or file.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "data/tokenizer.h"
#include "eval/attention_entropy.h"
#include "eval/eval_documents.h"
#include "eval/eval_limits.h"
#include "eval/eval_report.h"
#include "eval/longbench.h"
#include "eval/passkey.h"
#include "eval/sliding_perplexity.h"
#include "io/atomic_folder.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/rope_overrides.h"

namespace ctxext::cli {

namespace {

struct ModelFlags {
  std::string model;
  std::string tokenizer;
  std::string device = "cpu";
  int64_t max_length = 0;
  int threads = 0;
  bool json = false;
};

void add_model_flags(CLI::App& cmd, ModelFlags& f) {
  cmd.add_option("--model", f.model, "HF model folder (config.json + *.safetensors)")->required();
  cmd.add_option("--tokenizer", f.tokenizer, "sentencepiece model (default: MODEL/tokenizer.model)");
  cmd.add_option("--device", f.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd.add_option("--max-length", f.max_length,
                 "longest allowed length in tokens (default: 8x the RoPE method's extended context)");
  cmd.add_option("--threads", f.threads, "intra-op CPU threads; 0 = all cores")->capture_default_str();
  cmd.add_flag("--json", f.json, "print one JSON line per result instead of a table");
}

struct LoadedModel {
  LlamaForCausalLM model{nullptr};
  data::Tokenizer tokenizer;
};

// The model's RoPE method with the command's overrides applied.
RopeOptions model_rope(const ModelFlags& f, const RopeFlags& rope_flags) {
  const auto config_file = std::filesystem::path(f.model) / "config.json";
  if (!std::filesystem::is_regular_file(config_file)) fail("--model {}: no config.json in that folder", f.model);
  return apply_rope_overrides(read_hf_config(config_file).rope, rope_flags.overrides());
}

// Checks every length against the method's limit before the (slow) model load.
LoadedModel load(const ModelFlags& f, const RopeFlags& rope_flags, const std::vector<int64_t>& lengths,
                 const std::string& lengths_flag) {
  configure_threads(f.threads);
  const auto rope = model_rope(f, rope_flags);
  if (lengths.empty()) fail("{}: give at least one length", lengths_flag);
  for (int64_t length : lengths) eval::check_eval_length(length, rope, f.max_length, lengths_flag);
  if (f.device == "cuda" && !torch::cuda::is_available()) fail("--device cuda: no CUDA device is available");
  const std::string tokenizer_path =
      f.tokenizer.empty() ? (std::filesystem::path(f.model) / "tokenizer.model").string() : f.tokenizer;
  if (!std::filesystem::is_regular_file(tokenizer_path))
    fail("--tokenizer {}: no such file", tokenizer_path);
  auto tokenizer = data::Tokenizer::load(tokenizer_path);
  auto model = load_hf_model(f.model, torch::kFloat32, rope);
  model->to(torch::Device(f.device));
  return {model, tokenizer};
}

void print(const ModelFlags& f, const std::vector<nlohmann::json>& results, const std::vector<std::string>& header,
           const std::vector<std::vector<std::string>>& rows) {
  if (f.json) {
    for (const auto& r : results) std::cout << r.dump() << "\n";
  } else {
    std::cout << eval::markdown_table(header, rows);
  }
  std::cout << std::flush;
}

void add_passkey(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "passkey",
      "Passkey retrieval (scripts/passkey_prompt.py's prompt) on a grid of lengths x depths x seeded trials; "
      "greedy decoding with a KV cache; a trial succeeds when the output starts with the key's digits");
  auto f = std::make_shared<ModelFlags>();
  auto o = std::make_shared<eval::PasskeyOptions>();
  o->depths = {0.0, 0.25, 0.5, 0.75, 1.0};
  auto trials = std::make_shared<bool>(false);
  add_model_flags(*cmd, *f);
  cmd->add_option("--lengths", o->lengths, "target prompt lengths in tokens (BOS + prompt + answer fit)")
      ->required()->delimiter(',');
  cmd->add_option("--depths", o->depths, "needle depths in [0, 1]")->delimiter(',')->capture_default_str();
  cmd->add_option("--trials", o->trials, "seeded prompts per cell")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the keys")->capture_default_str();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens generated per trial (>= 6)")->capture_default_str();
  cmd->add_flag("--trials-json", *trials, "with --json: also one line per trial (key, generated text)");
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, o, trials, rope] {
    for (double d : o->depths)
      if (!(d >= 0.0 && d <= 1.0)) fail("--depths {}: a depth must be in [0, 1]", d);
    if (o->max_new_tokens < 6) fail("--max-new-tokens {}: must be at least 6 (a 5-digit key with its space)", o->max_new_tokens);
    auto loaded = load(*f, *rope, o->lengths, "--lengths");
    const int64_t total = static_cast<int64_t>(o->lengths.size() * o->depths.size()) * o->trials;
    Progress progress("passkey", total);
    const auto report = eval::run_passkey(*loaded.model, loaded.tokenizer, *o,
                                          [&](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
    std::vector<nlohmann::json> results;
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : report.cells) {
      results.push_back(eval::to_json(c));
      rows.push_back({std::to_string(c.length), fmt::format("{:g}", c.depth),
                      fmt::format("{}/{}", c.correct, c.trials), fmt::format("{:.2f}", c.accuracy())});
    }
    if (*trials)
      for (const auto& t : report.trials) results.push_back(eval::to_json(t));
    print(*f, results, {"length", "depth", "correct", "accuracy"}, rows);
  });
}

void add_ppl_sweep(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "ppl-sweep",
      "Sliding-window perplexity (HF's strided recipe) of --documents (JSONL {\"text\"}, each BOS + text + EOS, "
      "concatenated) at several window lengths");
  auto f = std::make_shared<ModelFlags>();
  auto documents = std::make_shared<std::string>();
  auto lengths = std::make_shared<std::vector<int64_t>>();
  auto stride = std::make_shared<int64_t>(0);
  auto max_tokens = std::make_shared<int64_t>(0);
  add_model_flags(*cmd, *f);
  cmd->add_option("--documents", *documents, "JSONL text documents")->required();
  cmd->add_option("--lengths", *lengths, "window lengths in tokens, e.g. 256,512,1024,2048")->required()->delimiter(',');
  cmd->add_option("--stride", *stride, "tokens between window starts; 0 = the window length")->capture_default_str();
  cmd->add_option("--max-tokens", *max_tokens,
                  "score the first N tokens of the stream at every length (0 = all)")->capture_default_str();
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, documents, lengths, stride, max_tokens, rope] {
    if (*stride < 0) fail("--stride {}: must be >= 0", *stride);
    auto loaded = load(*f, *rope, *lengths, "--lengths");
    const auto stream = eval::load_document_tokens(*documents, loaded.tokenizer, *max_tokens);
    const auto tokens = torch::tensor(stream, torch::kInt64);
    std::vector<nlohmann::json> results;
    std::vector<std::vector<std::string>> rows;
    for (int64_t length : *lengths) {
      if (static_cast<int64_t>(stream.size()) < length)
        fail("{}: {} tokens, fewer than --lengths {}", *documents, stream.size(), length);
      const int64_t s = *stride > 0 ? std::min(*stride, length) : length;
      Progress progress(fmt::format("ppl@{}", length),
                        eval::sliding_window_count(static_cast<int64_t>(stream.size()), length, s));
      const auto r = eval::sliding_perplexity(*loaded.model, tokens, length, s, 1024,
                                              [&](int64_t done, int64_t) { progress.update(done); });
      progress.finish();
      auto j = eval::to_json(r);
      j["length"] = length;
      results.push_back(j);
      rows.push_back({std::to_string(length), std::to_string(s), std::to_string(r.tokens),
                      fmt::format("{:.5f}", r.nll), fmt::format("{:.4f}", r.ppl)});
    }
    print(*f, results, {"length", "stride", "tokens", "nll", "ppl"}, rows);
  });
}

void add_entropy(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "entropy", "Attention entropy (nats) of the last query over its context, per layer (mean over heads), "
                 "on the first N tokens of --documents for each length");
  auto f = std::make_shared<ModelFlags>();
  auto documents = std::make_shared<std::string>();
  auto lengths = std::make_shared<std::vector<int64_t>>();
  add_model_flags(*cmd, *f);
  cmd->add_option("--documents", *documents, "JSONL text documents")->required();
  cmd->add_option("--lengths", *lengths, "context lengths in tokens")->required()->delimiter(',');
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, documents, lengths, rope] {
    auto loaded = load(*f, *rope, *lengths, "--lengths");
    const int64_t longest = *std::max_element(lengths->begin(), lengths->end());
    const auto stream = eval::load_document_tokens(*documents, loaded.tokenizer, longest);
    if (static_cast<int64_t>(stream.size()) < longest)
      fail("{}: {} tokens, fewer than --lengths {}", *documents, stream.size(), longest);
    const auto tokens = torch::tensor(stream, torch::kInt64);
    std::vector<nlohmann::json> results;
    std::vector<std::vector<std::string>> rows;
    Progress progress("entropy", static_cast<int64_t>(lengths->size()));
    for (int64_t length : *lengths) {
      const auto probe = eval::probe_attention_entropy(*loaded.model, tokens.slice(0, 0, length));
      results.push_back(eval::to_json(probe));
      for (size_t i = 0; i < probe.per_layer.size(); ++i)
        rows.push_back({std::to_string(length), std::to_string(i), fmt::format("{:.4f}", probe.per_layer[i]),
                        fmt::format("{:.4f}", std::log(static_cast<double>(length)))});
      progress.update(static_cast<int64_t>(results.size()));
    }
    progress.finish();
    print(*f, results, {"length", "layer", "entropy", "ln(length)"}, rows);
  });
}

struct LongBenchFlags {
  std::vector<std::string> tasks;
  std::string data;
  std::string predictions;
  int64_t truncate_to = 0;
  int64_t limit = 0;
  bool chat = false;
};

void add_longbench(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "longbench",
      "LongBench tasks from LongBench-format JSONL (input, context, answers, all_classes): the standard prompt, "
      "truncation from the middle, greedy decoding, LongBench's metric (F1 / retrieval / count / classification); "
      "the score is 100 x the mean over samples. Tasks: " + fmt::format("{}", fmt::join(eval::longbench_task_names(), ", ")));
  auto f = std::make_shared<ModelFlags>();
  auto b = std::make_shared<LongBenchFlags>();
  add_model_flags(*cmd, *f);
  cmd->add_option("--tasks", b->tasks, "LongBench task names, e.g. hotpotqa,passage_retrieval_en")
      ->required()->delimiter(',');
  cmd->add_option("--data", b->data, "a task's JSONL file, or a folder of <task>.jsonl (LongBench's data/)")->required();
  cmd->add_option("--truncate-to", b->truncate_to,
                  "prompt tokens kept (first and last half) before the chat wrap; default: the RoPE method's "
                  "extended context - 64 - the task's answer tokens (LongBench used 3500 for LLaMA-2-7B-Chat-4k)");
  cmd->add_option("--limit", b->limit, "score the first N samples of each task (0 = all)")->capture_default_str();
  cmd->add_flag("--chat", b->chat, "wrap prompts in LLaMA-2's [INST]...[/INST] (not trec/triviaqa, as LongBench)");
  cmd->add_option("--predictions", b->predictions,
                  "write every prediction as JSONL (LongBench's pred/ fields + task, source, score)");
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, b, rope] {
    if (b->limit < 0) fail("--limit {}: must be >= 0", b->limit);
    if (b->truncate_to < 0 || b->truncate_to == 1)
      fail("--truncate-to {}: must be at least 2 tokens (0 = the default)", b->truncate_to);
    std::vector<const eval::LongBenchTask*> tasks;
    std::vector<std::string> files;
    for (const auto& name : b->tasks) {
      try {
        tasks.push_back(&eval::longbench_task(name));
      } catch (const Error& e) {
        fail("--tasks: {}", e.what());
      }
      try {
        files.push_back(eval::longbench_task_file(b->data, name, b->tasks.size() > 1));
      } catch (const Error& e) {
        fail("--data {}", e.what());
      }
    }
    const auto method = model_rope(*f, *rope);
    const int64_t limit = eval::max_eval_length(method, f->max_length);
    std::vector<int64_t> truncates, totals;  // prompt budget, and with the answer tokens (the length checked)
    for (const auto* task : tasks) {
      truncates.push_back(eval::longbench_truncate_to(*task, method, b->truncate_to, "--truncate-to"));
      totals.push_back(truncates.back() + task->max_new_tokens);
    }
    // Every file is read (and every bad line reported) before the model loads and the first task runs.
    std::vector<std::vector<eval::LongBenchSample>> task_samples;
    for (size_t i = 0; i < tasks.size(); ++i)
      task_samples.push_back(eval::read_longbench_samples(files[i], *tasks[i], b->limit));
    auto loaded = load(*f, *rope, totals, "--truncate-to (plus the task's answer tokens)");
    std::vector<nlohmann::json> results, predictions;
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < tasks.size(); ++i) {
      const auto& task = *tasks[i];
      const auto& samples = task_samples[i];
      const eval::LongBenchPromptOptions options{truncates[i], b->chat};
      Progress progress(task.name, static_cast<int64_t>(samples.size()));
      const auto r = eval::run_longbench(*loaded.model, loaded.tokenizer, task, samples, options,
                                         limit - task.max_new_tokens,
                                         [&](int64_t done, int64_t) { progress.update(done); });
      progress.finish();
      int64_t prompt_tokens = 0;
      for (size_t k = 0; k < r.predictions.size(); ++k) {
        const auto& p = r.predictions[k];
        prompt_tokens += p.prompt_tokens;
        predictions.push_back({{"pred", p.prediction}, {"answers", samples[k].answers},
                               {"all_classes", samples[k].all_classes.empty() ? nlohmann::json(nullptr)
                                                                              : nlohmann::json(samples[k].all_classes)},
                               {"length", samples[k].length}, {"task", task.name}, {"source", p.source},
                               {"score", p.score}});
      }
      const double mean_tokens = static_cast<double>(prompt_tokens) / static_cast<double>(r.predictions.size());
      results.push_back({{"task", task.name}, {"metric", eval::to_string(task.metric)},
                         {"samples", r.predictions.size()}, {"score", r.score}, {"truncated", r.truncated},
                         {"truncate_to", options.truncate_to}, {"mean_prompt_tokens", mean_tokens}});
      rows.push_back({task.name, eval::to_string(task.metric), std::to_string(r.predictions.size()),
                      fmt::format("{:.2f}", r.score), std::to_string(r.truncated), fmt::format("{:.0f}", mean_tokens)});
    }
    if (!b->predictions.empty()) {
      std::string lines;
      for (const auto& p : predictions) lines += p.dump() + "\n";
      write_file_atomic(b->predictions, lines);
    }
    print(*f, results, {"task", "metric", "samples", "score", "truncated", "prompt tokens (mean)"}, rows);
  });
}

}  // namespace

void add_eval_tasks(CLI::App& eval) {
  add_passkey(eval);
  add_ppl_sweep(eval);
  add_entropy(eval);
  add_longbench(eval);
}

}  // namespace ctxext::cli
