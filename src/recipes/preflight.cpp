#include "recipes/preflight.h"

#include <torch/cuda.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file_kind.h"
#include "data/tokenizer.h"
#include "model/hf_config.h"

namespace ctxext::recipes {
namespace {

namespace fs = std::filesystem;

// The model's shape and RoPE settings: config.json of model.path (never the weights), or the preset.
model::LlamaConfig model_shape(const JobConfig& job, const std::string& source) {
  if (job.model.path.empty()) return job.model.preset_config;
  const fs::path file = fs::path(job.model.path) / "config.json";
  const std::string kind = file_kind(file);
  if (kind != "is a regular file")
    fail("{}: model.path {} has no config.json ({} {}): give the HF model folder itself (config.json, "
         "*.safetensors, tokenizer.model)", source, job.model.path, file.string(), kind);
  return model::read_hf_config(file);
}

void check_tokenizer(const JobConfig& job, const model::LlamaConfig& model, const std::string& source) {
  const std::string path = job.tokenizer_path();
  if (path.empty()) fail("{}: data.tokenizer is required when the model is a preset", source);
  const std::string kind = file_kind(path);
  if (kind != "is a regular file") {
    if (job.data.tokenizer.empty())
      fail("{}: the model folder {} has no tokenizer.model ({} {}): copy the model's sentencepiece tokenizer.model "
           "there or set data.tokenizer", source, job.model.path, path, kind);
    fail("{}: data.tokenizer {} {}", source, path, kind);
  }
  const auto tokenizer = data::Tokenizer::load(path);
  if (tokenizer.vocab_size() > model.vocab_size)
    fail("{}: the tokenizer {} has {} pieces but the model's vocab_size is {}: use the tokenizer the model was "
         "trained with", source, path, tokenizer.vocab_size(), model.vocab_size);
}

// key: "data.path" or "data.eval_path".
void check_data_file(const std::string& key, const std::string& path, const std::string& source) {
  const std::string kind = file_kind(path);
  if (kind != "is a regular file") fail("{}: {} {} {}", source, key, path, kind);
  std::ifstream in(path, std::ios::binary);
  if (!in || (in.peek(), in.bad())) fail("{}: {} {} cannot be read (check its permissions)", source, key, path);
}

// Samples longer than the context the model is extended to would train positions it never saw.
// The context: the rope: section's L0 x factor, else the larger of the model's own.
void check_max_seq_len(const JobConfig& job, const model::LlamaConfig& model, const std::string& source) {
  const int64_t context = job.rope_given ? job.rope.extended_context()
                                         : std::max(job.rope.extended_context(), model.max_position_embeddings);
  if (job.data.max_seq_len > context)
    fail("{}: data.max_seq_len = {} is beyond the extended context {} (rope.original_max_position_embeddings {} x "
         "rope.factor {}): lower data.max_seq_len to {} or raise rope.factor",
         source, job.data.max_seq_len, context, job.rope.original_max_position_embeddings, job.rope.factor, context);
}

}  // namespace

model::LlamaConfig preflight_check(const JobConfig& job, const std::string& source) {
  if (job.runtime.device == torch::kCUDA && !torch::cuda::is_available())
    fail("{}: runtime.device = cuda but no CUDA device is available; set runtime.device=cpu or run on a GPU machine",
         source);
  model::LlamaConfig model = model_shape(job, source);
  check_tokenizer(job, model, source);
  check_data_file("data.path", job.data.path, source);
  if (!job.data.eval_path.empty()) check_data_file("data.eval_path", job.data.eval_path, source);
  check_max_seq_len(job, model, source);
  model.rope = job.rope;  // parsed over the model's own RoPE settings: the method the job trains
  return model;
}

}  // namespace ctxext::recipes
