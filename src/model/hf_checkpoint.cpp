#include "model/hf_checkpoint.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/dtype_names.h"
#include "core/strings.h"
#include "core/log.h"
#include "io/atomic_folder.h"
#include "io/checkpoint_tensors.h"
#include "model/hf_config.h"

namespace ctxext::model {

namespace {

// Old HF checkpoints saved the rotary buffers; they are a function of config.json.
bool is_rotary_buffer(const std::string& name) { return ends_with(name, ".rotary_emb.inv_freq"); }

bool is_weight_dtype(torch::Dtype dtype) {
  return dtype == torch::kFloat32 || dtype == torch::kBFloat16 || dtype == torch::kFloat16;
}

// Parameters are created in the target dtype directly: a 7B model built in float32 first would
// need 27 GB before the conversion.
class DefaultDtypeGuard {
 public:
  explicit DefaultDtypeGuard(torch::Dtype dtype) : saved_(torch::get_default_dtype()) {
    torch::set_default_dtype(caffe2::scalarTypeToTypeMeta(dtype));
  }
  ~DefaultDtypeGuard() { torch::set_default_dtype(saved_); }

 private:
  caffe2::TypeMeta saved_;
};

}  // namespace

std::map<std::string, std::vector<int64_t>> expected_tensor_shapes(const LlamaConfig& c) {
  const int64_t h = c.hidden_size;
  const int64_t q = c.num_attention_heads * c.resolved_head_dim();
  const int64_t kv = c.num_key_value_heads * c.resolved_head_dim();
  std::map<std::string, std::vector<int64_t>> shapes;
  shapes["model.embed_tokens.weight"] = {c.vocab_size, h};
  shapes["model.norm.weight"] = {h};
  if (!c.tie_word_embeddings) shapes["lm_head.weight"] = {c.vocab_size, h};
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    shapes[p + "self_attn.q_proj.weight"] = {q, h};
    shapes[p + "self_attn.k_proj.weight"] = {kv, h};
    shapes[p + "self_attn.v_proj.weight"] = {kv, h};
    shapes[p + "self_attn.o_proj.weight"] = {h, q};
    shapes[p + "mlp.gate_proj.weight"] = {c.intermediate_size, h};
    shapes[p + "mlp.up_proj.weight"] = {c.intermediate_size, h};
    shapes[p + "mlp.down_proj.weight"] = {h, c.intermediate_size};
    shapes[p + "input_layernorm.weight"] = {h};
    shapes[p + "post_attention_layernorm.weight"] = {h};
  }
  return shapes;
}

void validate_checkpoint_tensors(const std::map<std::string, torch::Tensor>& tensors, const LlamaConfig& config,
                                 const std::string& origin) {
  const auto expected = expected_tensor_shapes(config);
  for (const auto& [name, tensor] : tensors) {
    if (is_rotary_buffer(name)) continue;
    const auto it = expected.find(name);
    // A tied checkpoint may still carry the (identical) lm_head copy.
    const bool tied_head = config.tie_word_embeddings && name == "lm_head.weight";
    if (it == expected.end() && !tied_head)
      fail("{}: unexpected tensor '{}' {} (not part of a LLaMA model with this config.json)", origin, name,
           tensor.sizes());
    const auto& shape = tied_head ? expected.at("model.embed_tokens.weight") : it->second;
    if (tensor.sizes() != c10::IntArrayRef(shape))
      fail("{}: tensor '{}': expected shape {} (from config.json), found {}", origin, name, shape, tensor.sizes());
    if (!is_weight_dtype(tensor.scalar_type()))
      fail("{}: tensor '{}': dtype {} is not a weight dtype (F32, F16 or BF16)", origin, name,
           c10::toString(tensor.scalar_type()));
  }
  std::vector<std::string> missing;
  for (const auto& [name, shape] : expected)
    if (!tensors.count(name)) missing.push_back(name);
  if (!missing.empty())
    fail("{}: missing tensor '{}' (expected shape {}){}", origin, missing.front(), expected.at(missing.front()),
         missing.size() > 1 ? fmt::format(", and {} more missing", missing.size() - 1) : "");
}

torch::Dtype checkpoint_dtype(const std::map<std::string, torch::Tensor>& tensors, const std::string& origin) {
  std::optional<torch::Dtype> dtype;
  std::string first;
  for (const auto& [name, tensor] : tensors) {
    if (is_rotary_buffer(name)) continue;
    if (!dtype) {
      dtype = tensor.scalar_type();
      first = name;
    } else if (*dtype != tensor.scalar_type()) {
      fail("{}: tensors mix dtypes: '{}' is {}, '{}' is {}", origin, first, c10::toString(*dtype), name,
           c10::toString(tensor.scalar_type()));
    }
  }
  if (!dtype) fail("{}: no tensors", origin);
  return *dtype;
}

HfCheckpoint read_hf_checkpoint(const std::filesystem::path& folder) {
  if (!std::filesystem::is_directory(folder)) fail("{}: not a folder (expected an HF model folder)", folder.string());
  HfCheckpoint checkpoint;
  checkpoint.config = read_hf_config(folder / "config.json");
  checkpoint.tensors = io::read_checkpoint_tensors(folder);
  validate_checkpoint_tensors(checkpoint.tensors, checkpoint.config, folder.string());
  return checkpoint;
}

void copy_tensors_into(LlamaForCausalLMImpl& model, const std::map<std::string, torch::Tensor>& tensors,
                       const std::string& origin) {
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const auto it = tensors.find(item.key());
    if (it == tensors.end()) fail("{}: missing tensor '{}'", origin, item.key());
    if (it->second.sizes() != item.value().sizes())
      fail("{}: tensor '{}': expected shape {}, found {}", origin, item.key(), item.value().sizes(),
           it->second.sizes());
    item.value().copy_(it->second);
  }
}

LlamaForCausalLM load_hf_model(const std::filesystem::path& folder, torch::Dtype dtype,
                               const std::optional<rope::RopeOptions>& rope) {
  auto checkpoint = read_hf_checkpoint(folder);
  if (rope) checkpoint.config.rope = *rope;
  LlamaForCausalLM model{nullptr};
  {
    const DefaultDtypeGuard guard(dtype);
    model = LlamaForCausalLM(checkpoint.config);
  }
  copy_tensors_into(*model, checkpoint.tensors, folder.string());
  log::info("loaded {}: {} parameters, {} (checkpoint {}), RoPE {}", folder.string(),
            checkpoint.config.num_parameters(), dtype_name(dtype),
            dtype_name(checkpoint_dtype(checkpoint.tensors, folder.string())), checkpoint.config.rope.type);
  return model;
}

std::map<std::string, torch::Tensor> model_tensors(LlamaForCausalLMImpl& model) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : model.named_parameters()) tensors[item.key()] = item.value().detach().to(torch::kCPU);
  return tensors;
}

void export_hf_checkpoint(const std::map<std::string, torch::Tensor>& tensors, const LlamaConfig& config,
                          const std::filesystem::path& out, const ExportOptions& options) {
  config.validate("export config");
  validate_checkpoint_tensors(tensors, config, "export");
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [name, tensor] : tensors)
    if (!is_rotary_buffer(name)) weights[name] = tensor;
  const auto dtype = checkpoint_dtype(weights, "export");

  io::AtomicFolder folder(out);
  write_hf_config(folder.path() / "config.json", config, dtype);
  io::write_checkpoint_tensors(folder.path(), weights, options.max_shard_bytes);
  if (!options.tokenizer_source.empty()) {
    for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                             "generation_config.json"}) {
      const auto source = options.tokenizer_source / name;
      if (std::filesystem::is_regular_file(source)) std::filesystem::copy_file(source, folder.path() / name);
    }
  }
  if (!options.training_record.empty())
    io::write_file_atomic(folder.path() / "ctxext_training.json", options.training_record);
  folder.commit();
}

}  // namespace ctxext::model
