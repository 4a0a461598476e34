#include "eval/eval_suite.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/progress.h"
#include "eval/eval_documents.h"
#include "eval/eval_limits.h"
#include "eval/eval_report.h"

namespace ctxext::eval {

namespace {

std::string stage(const EvalSuiteOptions& options, const std::string& name) {
  return options.progress_label.empty() ? name : options.progress_label + " " + name;
}

std::string truncate_name(const EvalSuiteOptions& options, const LongBenchTask& task) {
  return fmt::format("{} (plus {}'s answer tokens)", options.truncate_name, task.name);
}

void require_tokens(const EvalSuiteOptions& options, int64_t available, int64_t needed, const std::string& what) {
  if (available < needed)
    fail("{}: {} tokens, fewer than the {} tokens {} needs", options.documents, available, needed, what);
}

SlidingPerplexity run_ppl(model::LlamaForCausalLMImpl& model, const EvalSuiteOptions& options, const torch::Tensor& stream,
                          int64_t length) {
  const int64_t n = stream.size(0);
  require_tokens(options, n, length, fmt::format("the perplexity length {}", length));
  const int64_t stride = options.stride > 0 ? std::min(options.stride, length) : length;
  Progress progress(stage(options, fmt::format("ppl@{}", length)), sliding_window_count(n, length, stride));
  auto r = sliding_perplexity(model, stream, length, stride, 1024,
                              [&](int64_t done, int64_t) { progress.update(done); });
  progress.finish();
  return r;
}

// Sample k reads the stream's k-th stretch of max(lengths) tokens; each length n probes its first n.
std::vector<EntropyProbe> run_entropy(model::LlamaForCausalLMImpl& model, const EvalSuiteOptions& options,
                                      const torch::Tensor& stream) {
  const auto& o = options.entropy;
  const int64_t longest = *std::max_element(o.lengths.begin(), o.lengths.end());
  require_tokens(options, stream.size(0), o.samples * longest,
                 fmt::format("{} entropy sample(s) of {} tokens", o.samples, longest));
  std::vector<EntropyProbe> out;
  for (int64_t length : o.lengths) {
    EntropyProbe mean;
    mean.length = length;
    mean.samples = o.samples;
    out.push_back(std::move(mean));
  }
  Progress progress(stage(options, "entropy"), o.samples * static_cast<int64_t>(o.lengths.size()));
  int64_t done = 0;
  for (int64_t k = 0; k < o.samples; ++k) {
    for (auto& mean : out) {
      const auto probe = probe_attention_entropy(model, stream.slice(0, k * longest, k * longest + mean.length));
      if (mean.per_layer.empty()) {
        mean.per_layer.assign(probe.per_layer.size(), 0.0);
        for (const auto& heads : probe.per_head) mean.per_head.emplace_back(heads.size(), 0.0);
      }
      for (size_t i = 0; i < probe.per_layer.size(); ++i) {
        mean.per_layer[i] += probe.per_layer[i];
        for (size_t h = 0; h < probe.per_head[i].size(); ++h) mean.per_head[i][h] += probe.per_head[i][h];
      }
      progress.update(++done);
    }
  }
  progress.finish();
  const auto samples = static_cast<double>(o.samples);
  for (auto& mean : out) {
    for (auto& value : mean.per_layer) value /= samples;
    for (auto& heads : mean.per_head)
      for (auto& value : heads) value /= samples;
  }
  return out;
}

LongBenchScore run_task(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer, const EvalSuiteOptions& options,
                        size_t index) {
  const auto& lb = options.longbench;
  const auto& task = longbench_task(lb.tasks[index]);
  const auto& rope = model.config().rope;
  LongBenchScore score;
  score.metric = to_string(task.metric);
  score.truncate_to = longbench_truncate_to(task, rope, lb.truncate_to, truncate_name(options, task));
  Progress progress(stage(options, task.name), static_cast<int64_t>(lb.samples[index].size()));
  score.result = run_longbench(model, tokenizer, task, lb.samples[index], {score.truncate_to, lb.chat},
                               max_eval_length(rope, options.max_length) - task.max_new_tokens,
                               [&](int64_t done, int64_t) { progress.update(done); });
  progress.finish();
  int64_t prompt_tokens = 0;
  for (const auto& p : score.result.predictions) prompt_tokens += p.prompt_tokens;
  score.mean_prompt_tokens =
      static_cast<double>(prompt_tokens) / static_cast<double>(score.result.predictions.size());
  return score;
}

}  // namespace

void check_eval_suite(const EvalSuiteOptions& options, const rope::RopeOptions& rope) {
  if (options.stride < 0) fail("stride {}: must be >= 0 (0 = the window length)", options.stride);
  if (options.entropy.samples < 1) fail("entropy samples {}: must be at least 1", options.entropy.samples);
  if (options.longbench.samples.size() != options.longbench.tasks.size())
    fail("LongBench: {} tasks but samples read for {}", options.longbench.tasks.size(),
         options.longbench.samples.size());
  for (const auto* lengths : {&options.ppl_lengths, &options.passkey.lengths, &options.entropy.lengths})
    for (int64_t length : *lengths) check_eval_length(length, rope, options.max_length, options.lengths_name);
  for (const auto& name : options.longbench.tasks) {
    const auto& task = longbench_task(name);
    const auto what = truncate_name(options, task);
    const int64_t truncate = longbench_truncate_to(task, rope, options.longbench.truncate_to, what);
    check_eval_length(truncate + task.max_new_tokens, rope, options.max_length, what);
  }
}

EvalResults run_eval_suite(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer,
                           const EvalSuiteOptions& options) {
  check_eval_suite(options, model.config().rope);
  torch::Tensor stream;
  if (!options.ppl_lengths.empty() || !options.entropy.lengths.empty())
    stream = torch::tensor(load_document_tokens(options.documents, tokenizer, options.max_tokens), torch::kInt64);

  EvalResults results;
  for (int64_t length : options.ppl_lengths) results.ppl.push_back(run_ppl(model, options, stream, length));
  if (!options.passkey.lengths.empty()) {
    const auto& o = options.passkey;
    Progress progress(stage(options, "passkey"),
                      static_cast<int64_t>(o.lengths.size() * o.depths.size()) * o.trials);
    results.passkey = run_passkey(model, tokenizer, o, [&](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
  }
  if (!options.entropy.lengths.empty()) results.entropy = run_entropy(model, options, stream);
  for (size_t i = 0; i < options.longbench.tasks.size(); ++i)
    results.longbench.push_back(run_task(model, tokenizer, options, i));
  return results;
}

nlohmann::json to_json(const EvalResults& results) {
  nlohmann::json out{{"ppl", nlohmann::json::array()},
                     {"passkey", nlohmann::json::array()},
                     {"entropy", nlohmann::json::array()},
                     {"longbench", nlohmann::json::array()}};
  for (const auto& r : results.ppl) {
    auto j = to_json(r);
    j["length"] = r.window;
    out["ppl"].push_back(std::move(j));
  }
  for (const auto& c : results.passkey.cells) out["passkey"].push_back(to_json(c));
  for (const auto& p : results.entropy) out["entropy"].push_back(to_json(p));
  for (const auto& s : results.longbench)
    out["longbench"].push_back({{"task", s.result.task},
                                {"metric", s.metric},
                                {"samples", s.result.predictions.size()},
                                {"score", s.result.score},
                                {"truncated", s.result.truncated},
                                {"truncate_to", s.truncate_to},
                                {"mean_prompt_tokens", s.mean_prompt_tokens}});
  return out;
}

std::string eval_tables(const EvalResults& results) {
  std::vector<std::string> tables;
  if (!results.ppl.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results.ppl)
      rows.push_back({std::to_string(r.window), std::to_string(r.stride), std::to_string(r.tokens),
                      fmt::format("{:.5f}", r.nll), fmt::format("{:.4f}", r.ppl)});
    tables.push_back(markdown_table({"length", "stride", "tokens", "nll", "ppl"}, rows));
  }
  if (!results.passkey.cells.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : results.passkey.cells)
      rows.push_back({std::to_string(c.length), fmt::format("{:g}", c.depth), fmt::format("{}/{}", c.correct, c.trials),
                      fmt::format("{:.2f}", c.accuracy())});
    tables.push_back(markdown_table({"length", "depth", "correct", "accuracy"}, rows));
  }
  if (!results.entropy.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : results.entropy)
      for (size_t i = 0; i < p.per_layer.size(); ++i)
        rows.push_back({std::to_string(p.length), std::to_string(i), fmt::format("{:.4f}", p.per_layer[i]),
                        fmt::format("{:.4f}", std::log(static_cast<double>(p.length))), std::to_string(p.samples)});
    tables.push_back(markdown_table({"length", "layer", "entropy", "ln(length)", "samples"}, rows));
  }
  if (!results.longbench.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : results.longbench)
      rows.push_back({s.result.task, s.metric, std::to_string(s.result.predictions.size()),
                      fmt::format("{:.2f}", s.result.score), std::to_string(s.result.truncated),
                      fmt::format("{:.0f}", s.mean_prompt_tokens)});
    tables.push_back(markdown_table({"task", "metric", "samples", "score", "truncated", "prompt tokens (mean)"}, rows));
  }
  std::string out;
  for (size_t i = 0; i < tables.size(); ++i) out += (i ? "\n" : "") + tables[i];
  return out;
}

std::string longbench_predictions_jsonl(const EvalResults& results, const EvalSuiteOptions& options) {
  std::string lines;
  for (size_t i = 0; i < results.longbench.size(); ++i) {
    const auto& r = results.longbench[i].result;
    for (size_t k = 0; k < r.predictions.size(); ++k) {
      const auto& p = r.predictions[k];
      const auto& sample = options.longbench.samples[i][k];
      const nlohmann::json line{
          {"pred", p.prediction},
          {"answers", sample.answers},
          {"all_classes", sample.all_classes.empty() ? nlohmann::json(nullptr) : nlohmann::json(sample.all_classes)},
          {"length", sample.length},
          {"task", r.task},
          {"source", p.source},
          {"score", p.score}};
      lines += line.dump() + "\n";
    }
  }
  return lines;
}

}  // namespace ctxext::eval
