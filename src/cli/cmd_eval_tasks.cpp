// ctxext eval passkey | ppl-sweep | entropy | longbench: the long-context evaluations of eval/ on an HF model
// folder, optionally with another RoPE method applied on the fly. Each subcommand fills the options of
// the one evaluation suite (eval/eval_suite.h), runs it and prints its table, or with --json one JSON
// line per result; bad inputs exit 2 with one line naming the flag or file.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "core/error.h"
#include "core/python_script.h"
#include "data/tokenizer.h"
#include "eval/eval_report.h"
#include "eval/eval_suite.h"
#include "io/atomic_folder.h"

namespace ctxext::cli {

namespace {

// The flags of the evaluation tasks beyond the model's (eval_flags.h).
struct TaskFlags {
  EvalModelFlags model;
  std::string tokenizer;
  int64_t max_length = 0;
  bool json = false;
};

void add_task_flags(CLI::App& cmd, TaskFlags& f) {
  add_eval_model_flags(cmd, f.model);
  cmd.add_option("--tokenizer", f.tokenizer, "sentencepiece model (default: MODEL/tokenizer.model)");
  cmd.add_option("--max-length", f.max_length,
                 "longest allowed length in tokens (default: 8x the RoPE method's extended context)");
  cmd.add_flag("--json", f.json, "print one JSON line per result instead of a table");
}

// Checks every length against the method's limit before the (slow) model load, runs the suite and
// prints the results of `section` (a key of eval::to_json's object).
eval::EvalResults run_task(const TaskFlags& f, const RopeFlags& rope_flags, eval::EvalSuiteOptions options,
                           const std::string& section) {
  const auto config = eval_model_config(f.model, rope_flags);
  const auto& rope = config.rope;
  options.max_length = f.max_length;
  eval::check_eval_suite(options, rope);
  parse_eval_device(f.model.device);
  const auto tokenizer = load_eval_tokenizer(f.model, f.tokenizer, config.vocab_size);
  auto model = load_eval_model(f.model, rope);
  auto results = eval::run_eval_suite(*model, tokenizer, options);
  if (f.json) {
    const auto json = eval::to_json(results);
    for (const auto& line : json.at(section)) std::cout << line.dump() << "\n";
  } else {
    std::cout << eval::eval_tables(results);
  }
  std::cout << std::flush;
  return results;
}

void require_lengths(const std::vector<int64_t>& lengths) {
  if (lengths.empty()) fail("--lengths: give at least one length");
}

void add_passkey(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "passkey",
      "Passkey retrieval (scripts/passkey_prompt.py's prompt) on a grid of lengths x depths x seeded trials; "
      "greedy decoding with a KV cache; a trial succeeds when the output starts with the key's digits");
  auto f = std::make_shared<TaskFlags>();
  auto o = std::make_shared<eval::PasskeyOptions>();
  o->depths = {0.0, 0.25, 0.5, 0.75, 1.0};
  auto trials = std::make_shared<bool>(false);
  add_task_flags(*cmd, *f);
  cmd->add_option("--lengths", o->lengths, "target prompt lengths in tokens (BOS + prompt + answer fit)")
      ->required()->delimiter(',');
  cmd->add_option("--depths", o->depths, "needle depths in [0, 1]")->delimiter(',')->capture_default_str();
  cmd->add_option("--trials", o->trials, "seeded prompts per cell")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the keys")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens generated per trial (>= 6)")->capture_default_str();
  cmd->add_flag("--trials-json", *trials, "with --json: also one line per trial (key, generated text)");
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, o, trials, rope] {
    require_lengths(o->lengths);
    for (double d : o->depths)
      if (!(d >= 0.0 && d <= 1.0)) fail("--depths {}: a depth must be in [0, 1]", d);
    if (o->max_new_tokens < 6) fail("--max-new-tokens {}: must be at least 6 (a 5-digit key with its space)", o->max_new_tokens);
    eval::EvalSuiteOptions options;
    options.passkey = *o;
    options.lengths_name = "--lengths";
    const auto results = run_task(*f, *rope, options, "passkey");
    if (f->json && *trials) {
      for (const auto& t : results.passkey.trials) std::cout << eval::to_json(t).dump() << "\n";
      std::cout << std::flush;
    }
  });
}

void add_ppl_sweep(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "ppl-sweep",
      "Sliding-window perplexity (HF's strided recipe) of --documents (JSONL {\"text\"}, each BOS + text + EOS, "
      "concatenated) at several window lengths");
  auto f = std::make_shared<TaskFlags>();
  auto o = std::make_shared<eval::EvalSuiteOptions>();
  add_task_flags(*cmd, *f);
  cmd->add_option("--documents", o->documents, "JSONL text documents")->required();
  cmd->add_option("--lengths", o->ppl_lengths, "window lengths in tokens, e.g. 256,512,1024,2048")
      ->required()->delimiter(',');
  cmd->add_option("--stride", o->stride, "tokens between window starts; 0 = the window length")->capture_default_str();
  cmd->add_option("--max-tokens", o->max_tokens, "score the first N tokens of the stream at every length (0 = all)")
      ->capture_default_str();
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, o, rope] {
    require_lengths(o->ppl_lengths);
    if (o->stride < 0) fail("--stride {}: must be >= 0", o->stride);
    if (o->max_tokens < 0) fail("--max-tokens {}: must be >= 0", o->max_tokens);
    o->lengths_name = "--lengths";
    run_task(*f, *rope, *o, "ppl");
  });
}

// The entropy results as the JSON plot_entropy.py reads, then the PNG.
void plot_entropy(const eval::EvalResults& results, const std::string& png) {
  const auto data = std::filesystem::temp_directory_path() / fmt::format("ctxext-entropy-{}.json", ::getpid());
  io::write_file_atomic(data, eval::to_json(results).at("entropy").dump() + "\n");
  try {
    run_python_script("plot_entropy.py", {data.string(), png}, "--plot " + png + ": nothing drawn");
  } catch (...) {
    std::filesystem::remove(data);
    throw;
  }
  std::filesystem::remove(data);
}

void add_entropy(CLI::App& eval) {
  auto* cmd = eval.add_subcommand(
      "entropy",
      "Attention entropy (nats) of the query at position n-1 over its n keys, per layer (mean over heads), for "
      "each n of --lengths, averaged over --samples disjoint stretches of --documents; ln(n) is the entropy of "
      "uniform attention (the paper's Figure 1)");
  auto f = std::make_shared<TaskFlags>();
  auto o = std::make_shared<eval::EvalSuiteOptions>();
  auto png = std::make_shared<std::string>();
  add_task_flags(*cmd, *f);
  cmd->add_option("--documents", o->documents, "JSONL text documents")->required();
  cmd->add_option("--lengths", o->entropy.lengths, "context lengths n in tokens (query positions + 1)")
      ->required()->delimiter(',');
  cmd->add_option("--samples", o->entropy.samples,
                  "stretches of max(--lengths) tokens of the document stream averaged over")
      ->capture_default_str();
  cmd->add_option("--plot", *png, "also draw entropy vs n per layer, with ln(n), to this PNG");
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, o, png, rope] {
    require_lengths(o->entropy.lengths);
    if (o->entropy.samples < 1) fail("--samples {}: must be at least 1", o->entropy.samples);
    if (!png->empty() && std::filesystem::path(*png).extension() != ".png")
      fail("--plot {}: the file name must end in .png", *png);
    o->max_tokens = o->entropy.samples * *std::max_element(o->entropy.lengths.begin(), o->entropy.lengths.end());
    o->lengths_name = "--lengths";
    const auto results = run_task(*f, *rope, *o, "entropy");
    if (!png->empty()) plot_entropy(results, *png);
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
  auto f = std::make_shared<TaskFlags>();
  auto b = std::make_shared<LongBenchFlags>();
  add_task_flags(*cmd, *f);
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
    eval::EvalSuiteOptions options;
    auto& lb = options.longbench;
    lb.tasks = b->tasks;
    lb.truncate_to = b->truncate_to;
    lb.chat = b->chat;
    options.truncate_name = "--truncate-to";
    // Every file is read (and every bad line reported) before the model loads and the first task runs.
    std::vector<std::string> files;
    for (const auto& name : b->tasks) {
      try {
        eval::longbench_task(name);
      } catch (const Error& e) {
        fail("--tasks: {}", e.what());
      }
      try {
        files.push_back(eval::longbench_task_file(b->data, name, b->tasks.size() > 1));
      } catch (const Error& e) {
        fail("--data {}", e.what());
      }
    }
    for (size_t i = 0; i < files.size(); ++i)
      lb.samples.push_back(eval::read_longbench_samples(files[i], eval::longbench_task(lb.tasks[i]), b->limit));
    const auto results = run_task(*f, *rope, options, "longbench");
    if (!b->predictions.empty()) io::write_file_atomic(b->predictions, eval::longbench_predictions_jsonl(results, options));
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
