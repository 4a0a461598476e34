#include "eval_fixtures.h"

#include <torch/torch.h>

#include "model/hf_checkpoint.h"
#include "model/llama_init.h"
#include "support/small_llama_config.h"

namespace ctxext::testing {

model::LlamaConfig eval_model_config(const std::string& method) {
  model::LlamaConfig c = small_llama_config(4000, 64, 128, 2, 64);
  c.rope.type = method;
  c.rope.factor = method == "none" ? 1.0 : 2.0;
  c.rope.eabf_context = 64;
  c.rope.eabf_skip_layers = 1;
  return c;
}

model::LlamaForCausalLM eval_model(const std::string& method, uint64_t seed) {
  return model::make_random_llama(eval_model_config(method), seed, torch::kFloat32, 0.15);
}

void write_eval_model(const std::filesystem::path& folder, const std::string& method, uint64_t seed) {
  auto model = eval_model(method, seed);
  model::export_hf_checkpoint(model::model_tensors(*model), model->config(), folder);
}

std::vector<int64_t> eval_tokens(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto t = torch::randint(3, 4000, {n}, gen, torch::kInt64);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

const data::Tokenizer& embedded_tokenizer() {
  static const auto t = data::Tokenizer::load("data/tokenizer.model");
  return t;
}

}  // namespace ctxext::testing
