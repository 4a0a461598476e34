#include "model/llama_model.h"

#include <torch/torch.h>

#include "core/error.h"
#include "model/activation_checkpoint.h"
#include "rope/rope_tables.h"

namespace ctxext::model {

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& config) : config_(config) {
  config.validate("LLaMA config");
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(config, i));
  norm = register_module("norm", RMSNorm(config.hidden_size, config.rms_norm_eps));
}

// input_ids: [b, s] -> [b, s, h]
torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids, KvCache* cache, AttentionProbe* probe) {
  const int64_t past = cache ? cache->length() : 0;
  const int64_t s = input_ids.size(1);
  const auto positions =
      torch::arange(past, past + s, torch::TensorOptions().dtype(torch::kInt64).device(input_ids.device()));
  // One table for all layers; dynamic NTK sees the longest position + 1, as HF's forward does.
  const auto tables = rope::compute_rope_tables(config_.rope, config_.resolved_head_dim(), positions, past + s);

  auto x = embed_tokens(input_ids);
  const bool checkpoint = activation_checkpointing_ && is_training() && torch::GradMode::is_enabled() && !cache;
  if (probe && checkpoint) fail("attention probe: not available under activation checkpointing");
  const auto hooks = hooks_;
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = layers->ptr<LlamaDecoderLayerImpl>(i);
    if (hooks && hooks->before_forward) hooks->before_forward(i);
    if (checkpoint) {
      // Backward calls the block (and the hooks) again after this function returned: capture by value.
      std::function<void()> before, after;
      if (hooks && hooks->before_backward) before = [hooks, i] { hooks->before_backward(i); };
      if (hooks && hooks->after_backward) after = [hooks, i] { hooks->after_backward(i); };
      x = checkpointed([layer, positions, tables](const torch::Tensor& h) {
            return layer->forward(h, positions, tables, nullptr);
          }, x, before, after);
    } else {
      x = layer->forward(x, positions, tables, cache, probe);
    }
    if (hooks && hooks->after_forward) hooks->after_forward(i, checkpoint);
  }
  return norm(x);
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& config) : config_(config) {
  model = register_module("model", LlamaModel(config));
  if (!config.tie_word_embeddings)
    lm_head = register_module(
        "lm_head", torch::nn::Linear(torch::nn::LinearOptions(config.hidden_size, config.vocab_size).bias(false)));
}

// input_ids: [b, s] -> [b, s, vocab]
torch::Tensor LlamaForCausalLMImpl::forward(const torch::Tensor& input_ids, KvCache* cache) {
  return logits(model(input_ids, cache));
}

// hidden: [..., h] -> [..., vocab]
torch::Tensor LlamaForCausalLMImpl::logits(const torch::Tensor& hidden) {
  const auto& weight = lm_head ? lm_head->weight : model->embed_tokens->weight;
  return torch::nn::functional::linear(hidden, weight).to(torch::kFloat32);
}

}  // namespace ctxext::model
