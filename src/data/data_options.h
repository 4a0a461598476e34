// The YAML `data:` section. Example:
//   data:
//     format: sharegpt            # sharegpt | text
//     path: data/samples/tiny_chat.jsonl
//     tokenizer: data/tokenizer.model
//     max_seq_len: 16384
//     min_tokens: 1
//     num_samples: 100            # 0 = all
//     select: first               # first | random (seeded)
//     seed: 0
//     overflow: truncate          # truncate | split
//     shuffle: true               # a new seeded order every epoch
//     skip_bad: false             # true: skip and count bad records instead of failing
//     system_prompt: "..."        # for conversations without a system turn
//     eval_path: held_out.jsonl   # held-out samples scored every train.eval_every steps
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"
#include "data/length_policy.h"
#include "data/sample_selection.h"

namespace ctxext::data {

enum class DataFormat { sharegpt, text };

struct DataOptions {
  DataFormat format = DataFormat::sharegpt;
  std::string path;       // required; absolute (relative paths resolve against the working directory)
  std::string tokenizer;  // absolute; empty when not given (the recipe then uses the model folder's)
  int64_t max_seq_len = 4096;
  int64_t min_tokens = 1;
  int64_t num_samples = 0;  // 0 = all
  Selection select = Selection::first;
  uint64_t seed = 0;
  Overflow overflow = Overflow::truncate;
  bool shuffle = true;
  bool skip_bad = false;
  std::optional<std::string> system_prompt;
  // Held-out samples in the same format, scored every train.eval_every steps (eval_loss in
  // metrics.jsonl); absolute; empty when not given.
  std::string eval_path;
};

// Reads `node` (the `data` mapping) and fails on unknown keys.
DataOptions parse_data_options(const ConfigNode& node);

// The options data.eval_path's samples are read with: the training data's format, template, lengths
// and filters, every sample of the file (data.num_samples and data.select choose training samples only).
DataOptions eval_data_options(const DataOptions& options);

}  // namespace ctxext::data
