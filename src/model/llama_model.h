// The LLaMA network with HF's module tree, so parameter names equal HF's state_dict names
// ("model.layers.3.self_attn.q_proj.weight", "lm_head.weight") and loading/exporting is a
// name-for-name copy.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/kv_cache.h"
#include "model/layer_hooks.h"
#include "model/llama_config.h"
#include "model/llama_decoder_layer.h"
#include "model/rms_norm.h"

namespace ctxext::model {

// HF's LlamaModel: embeddings, decoder layers, final norm.
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaConfig& config);

  // input_ids: [b, s] int64 -> final hidden states [b, s, h] in the parameters' dtype.
  // Positions continue after the cache's (0 without a cache). probe: every layer appends the
  // attention probabilities of probe->queries (model/attention_probe.h; batch 1, no cache, not
  // under activation checkpointing).
  torch::Tensor forward(const torch::Tensor& input_ids, KvCache* cache = nullptr, AttentionProbe* probe = nullptr);

  // Recompute each decoder layer during backward instead of keeping its activations (training only).
  void set_activation_checkpointing(bool enabled) { activation_checkpointing_ = enabled; }
  void set_layer_hooks(std::shared_ptr<LayerHooks> hooks) { hooks_ = std::move(hooks); }

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

 private:
  LlamaConfig config_;
  bool activation_checkpointing_ = false;
  std::shared_ptr<LayerHooks> hooks_;  // optional calls around each layer (model/layer_hooks.h)
};
TORCH_MODULE(LlamaModel);

// HF's LlamaForCausalLM: LlamaModel + lm_head (absent when tie_word_embeddings: the embedding
// matrix is used instead, and no "lm_head.weight" parameter exists, as in HF's saved files).
class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  explicit LlamaForCausalLMImpl(const LlamaConfig& config);

  // input_ids: [b, s] int64 -> logits [b, s, vocab] float32
  torch::Tensor forward(const torch::Tensor& input_ids, KvCache* cache = nullptr);
  // hidden: [..., h] (output of `model`) -> logits [..., vocab] float32. Lets callers chunk the
  // vocabulary projection over positions (a 16k x 32k float32 logits tensor is 2 GB).
  torch::Tensor logits(const torch::Tensor& hidden);

  const LlamaConfig& config() const { return config_; }
  // A fresh cache for this model's layers.
  KvCache make_cache() const { return KvCache(config_.num_hidden_layers); }

  LlamaModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};

 private:
  LlamaConfig config_;
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace ctxext::model
