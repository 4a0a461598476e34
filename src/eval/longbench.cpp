#include "eval/longbench.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/json_records.h"
#include "eval/greedy_decode.h"
#include "eval/longbench_metrics.h"

namespace ctxext::eval {

namespace {

std::vector<std::string> string_list(const nlohmann::json& record, const std::string& key, const std::string& source) {
  const auto& value = record.at(key);
  if (!value.is_array()) fail("{}: field '{}' must be a list of strings, got {}", source, key, value.type_name());
  std::vector<std::string> out;
  for (const auto& item : value) {
    if (!item.is_string()) fail("{}: field '{}' must be a list of strings, has a {}", source, key, item.type_name());
    out.push_back(item.get<std::string>());
  }
  return out;
}

// Python's str.format for the two fields LongBench templates use, in one pass.
std::string fill_template(const std::string& pattern, const LongBenchSample& sample) {
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 9, "{context}") == 0) {
      out += sample.context;
      i += 9;
    } else if (pattern.compare(i, 7, "{input}") == 0) {
      out += sample.input;
      i += 7;
    } else {
      out.push_back(pattern[i++]);
    }
  }
  return out;
}

// decode(..., skip_special_tokens=True): BOS/EOS dropped before decoding.
std::string decode_text(const data::Tokenizer& tokenizer, std::vector<int64_t> ids) {
  ids.erase(std::remove_if(ids.begin(), ids.end(),
                           [&](int64_t id) { return id == tokenizer.bos_id() || id == tokenizer.eos_id(); }),
            ids.end());
  return tokenizer.decode(ids);
}

}  // namespace

std::string longbench_task_file(const std::string& data, const std::string& task, bool several) {
  if (std::filesystem::is_directory(data)) {
    const auto file = std::filesystem::path(data) / (task + ".jsonl");
    if (!std::filesystem::is_regular_file(file)) fail("{}: no {}.jsonl in that folder", data, task);
    return file.string();
  }
  if (several) fail("{}: with several tasks, give a folder holding <task>.jsonl", data);
  if (!std::filesystem::is_regular_file(data)) fail("{}: no such file or folder", data);
  return data;
}

std::vector<LongBenchSample> read_longbench_samples(const std::string& path, const LongBenchTask& task,
                                                    int64_t limit) {
  if (!std::filesystem::is_regular_file(path)) fail("{}: no such file", path);
  std::vector<LongBenchSample> samples;
  data::for_each_json_record(path, /*skip_bad=*/false, [&](const data::JsonRecord& r) {
    if (limit > 0 && static_cast<int64_t>(samples.size()) >= limit) return;
    if (!r.value.is_object()) fail("{}: a record must be a JSON object, got {}", r.source, r.value.type_name());
    LongBenchSample s;
    s.source = r.source;
    s.input = data::require_string(r.value, "input", r.source, "LongBench sample");
    s.context = data::require_string(r.value, "context", r.source, "LongBench sample");
    if (!r.value.contains("answers")) fail("{}: LongBench sample: missing field 'answers'", r.source);
    s.answers = string_list(r.value, "answers", r.source);
    if (s.answers.empty()) fail("{}: field 'answers' is empty", r.source);
    if (r.value.contains("all_classes") && !r.value.at("all_classes").is_null())
      s.all_classes = string_list(r.value, "all_classes", r.source);
    if (task.metric == LongBenchMetric::classification && s.all_classes.empty())
      fail("{}: task {} needs field 'all_classes' (the list of class names)", r.source, task.name);
    if (r.value.contains("length")) {
      const auto& length = r.value.at("length");
      if (!length.is_number_integer()) fail("{}: field 'length' must be an integer", r.source);
      s.length = length.get<int64_t>();
    }
    samples.push_back(std::move(s));
  });
  if (samples.empty()) fail("{}: no samples", path);
  return samples;
}

int64_t longbench_truncate_to(const LongBenchTask& task, const rope::RopeOptions& rope, int64_t requested,
                              const std::string& what) {
  if (requested > 0) return requested;
  const int64_t truncate = rope.extended_context() - 64 - task.max_new_tokens;
  if (truncate < 2) fail("{}: the default {} is too small for this model; set it", what, truncate);
  return truncate;
}

LongBenchPrompt build_longbench_prompt(const LongBenchTask& task, const LongBenchSample& sample,
                                       const data::Tokenizer& tokenizer, const LongBenchPromptOptions& options) {
  if (options.truncate_to < 2) fail("LongBench: truncate_to = {}: must be at least 2 tokens", options.truncate_to);
  std::string prompt = fill_template(task.prompt_template, sample);
  LongBenchPrompt out;
  auto ids = tokenizer.encode_with_bos(prompt);
  if (static_cast<int64_t>(ids.size()) > options.truncate_to) {
    const auto half = static_cast<std::ptrdiff_t>(options.truncate_to / 2);
    prompt = decode_text(tokenizer, {ids.begin(), ids.begin() + half}) +
             decode_text(tokenizer, {ids.end() - half, ids.end()});
    out.truncated = true;
  }
  const bool wrap = options.chat && task.chat;
  if (wrap) prompt = "[INST]" + prompt + "[/INST]";
  out.ids = (out.truncated || wrap) ? tokenizer.encode_with_bos(prompt) : std::move(ids);
  return out;
}

LongBenchResult run_longbench(model::LlamaForCausalLMImpl& model, const data::Tokenizer& tokenizer,
                              const LongBenchTask& task, const std::vector<LongBenchSample>& samples,
                              const LongBenchPromptOptions& options, int64_t max_prompt_tokens,
                              const std::function<void(int64_t, int64_t)>& on_sample) {
  LongBenchResult result;
  result.task = task.name;
  double total = 0.0;
  for (const auto& sample : samples) {
    const auto prompt = build_longbench_prompt(task, sample, tokenizer, options);
    const auto n = static_cast<int64_t>(prompt.ids.size());
    if (n > max_prompt_tokens)
      fail("{}: the prompt has {} tokens after truncation, more than the {} allowed (lower --truncate-to)",
           sample.source, n, max_prompt_tokens);
    const auto decoded = greedy_decode(model, prompt.ids, task.max_new_tokens, tokenizer.eos_id());
    LongBenchPrediction p;
    p.source = sample.source;
    p.prediction = decode_text(tokenizer, decoded.tokens);
    p.score = longbench_sample_score(task, p.prediction, sample.answers, sample.all_classes);
    p.prompt_tokens = n;
    p.truncated = prompt.truncated;
    total += p.score;
    result.truncated += p.truncated ? 1 : 0;
    result.predictions.push_back(std::move(p));
    if (on_sample) on_sample(static_cast<int64_t>(result.predictions.size()), static_cast<int64_t>(samples.size()));
  }
  result.score = 100.0 * total / static_cast<double>(samples.size());
  return result;
}

}  // namespace ctxext::eval
