// A tiny training job for the recipe tests: a 2-layer LLaMA on the committed tokenizer and the
// tiny ShareGPT sample file, small enough that a few steps take a second or two on a CPU.
#pragma once
#include <string>

namespace ctxext::testing {

inline std::string tiny_train_yaml(const std::string& output_dir) {
  return "model:\n"
         "  preset: tiny\n"
         "  hidden_size: 64\n"
         "  intermediate_size: 128\n"
         "  num_hidden_layers: 2\n"
         "  num_attention_heads: 4\n"
         "  num_key_value_heads: 2\n"
         "rope:\n"
         "  type: yarn\n"
         "  factor: 2\n"
         "  original_max_position_embeddings: 256\n"
         "data:\n"
         "  path: data/samples/tiny_chat.jsonl\n"
         "  tokenizer: data/tokenizer.model\n"
         "  max_seq_len: 128\n"
         "  num_samples: 8\n"
         "train:\n"
         "  steps: 6\n"
         "  lr: 1.0e-3\n"
         "  micro_batch_size: 2\n"
         "  global_batch_size: 4\n"
         "  schedule: cosine\n"
         "  warmup_steps: 1\n"
         "checkpoint:\n"
         "  every_steps: 2\n"
         "  keep_last: 2\n"
         "runtime:\n"
         "  threads: 1\n"
         "  seed: 7\n"
         "output_dir: " + output_dir + "\n";
}

}  // namespace ctxext::testing
