// A data set ready for training or evaluation: read (ShareGPT or text), tokenised (chat template
// or BOS + text + EOS), fitted to max_seq_len, filtered by min_tokens, N samples selected.
#pragma once
#include <cstdint>
#include <vector>

#include "data/conversation.h"
#include "data/data_options.h"
#include "data/json_records.h"
#include "data/length_policy.h"
#include "data/sample.h"
#include "data/tokenizer.h"

namespace ctxext::data {

struct Dataset {
  std::vector<Sample> samples;  // the selected samples, in file order
  ReadStats read;
  LengthStats length;
  int64_t available = 0;        // samples that passed the length policy, before selection
};

// BOS + text + EOS, every token a label (pretraining, perplexity).
Sample encode_text_document(const Tokenizer& tokenizer, const TextDocument& document);

// Logs a one-line summary (records, skipped, truncated/split, dropped, selected).
Dataset load_dataset(const DataOptions& options, const Tokenizer& tokenizer);

}  // namespace ctxext::data
