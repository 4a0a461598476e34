#include "cli/eval_flags.h"

#include <torch/cuda.h>

#include <filesystem>

#include "core/dtype_names.h"
#include "core/error.h"
#include "core/threads.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/rope_overrides.h"

namespace ctxext::cli {

void add_eval_model_flags(CLI::App& cmd, EvalModelFlags& flags) {
  cmd.add_option("--model", flags.model, "HF model folder (config.json + *.safetensors)")->required();
  cmd.add_option("--device", flags.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd.add_option("--dtype", flags.dtype, "compute dtype: float32, bfloat16 or float16 (fp32, bf16, fp16)")
      ->capture_default_str();
  cmd.add_option("--threads", flags.threads, "intra-op CPU threads; 0 = all cores")->capture_default_str();
}

torch::Device parse_eval_device(const std::string& device) {
  const auto bad = [&] { fail("--device {}: expected cpu, cuda or cuda:N", device); };
  if (device != "cpu" && device.rfind("cuda", 0) != 0) bad();
  std::optional<torch::Device> parsed;
  try {
    parsed.emplace(device);
  } catch (const c10::Error&) {
    bad();
  }
  if (parsed->is_cpu()) {
    if (parsed->has_index()) bad();
    return *parsed;
  }
  if (!torch::cuda::is_available()) fail("--device {}: no CUDA device is available", device);
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (parsed->has_index() && parsed->index() >= count)
    fail("--device {}: this machine has {} CUDA device(s), numbered from 0", device, count);
  return *parsed;
}

model::LlamaConfig eval_model_config(const EvalModelFlags& flags, const RopeFlags& rope_flags) {
  const auto config_file = std::filesystem::path(flags.model) / "config.json";
  if (!std::filesystem::is_regular_file(config_file)) fail("--model {}: no config.json in that folder", flags.model);
  auto config = model::read_hf_config(config_file);
  config.rope = model::apply_rope_overrides(config.rope, rope_flags.overrides());
  return config;
}

data::Tokenizer load_eval_tokenizer(const EvalModelFlags& flags, const std::string& tokenizer_flag,
                                    int64_t vocab_size) {
  const std::string path =
      tokenizer_flag.empty() ? (std::filesystem::path(flags.model) / "tokenizer.model").string() : tokenizer_flag;
  if (!std::filesystem::is_regular_file(path)) fail("--tokenizer {}: no such file", path);
  auto tokenizer = data::Tokenizer::load(path);
  if (tokenizer.vocab_size() > vocab_size)
    fail("{}: the tokenizer has {} pieces but --model {} has vocab_size {} (config.json): its ids would index past "
         "the embedding; use the tokenizer the model was trained with",
         path, tokenizer.vocab_size(), flags.model, vocab_size);
  return tokenizer;
}

model::LlamaForCausalLM load_eval_model(const EvalModelFlags& flags, const rope::RopeOptions& rope) {
  configure_threads(flags.threads);
  const auto dtype = parse_dtype_name(flags.dtype, "--dtype");
  const auto device = parse_eval_device(flags.device);
  auto model = model::load_hf_model(flags.model, dtype, rope);
  model->to(device);
  return model;
}

}  // namespace ctxext::cli
