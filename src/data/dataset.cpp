#include "data/dataset.h"

#include "core/error.h"
#include "core/log.h"
#include "data/chat_template.h"
#include "data/sharegpt_reader.h"
#include "data/text_reader.h"

namespace ctxext::data {

Sample encode_text_document(const Tokenizer& tokenizer, const TextDocument& document) {
  if (tokenizer.bos_id() < 0 || tokenizer.eos_id() < 0)
    fail("{}: text documents need a tokenizer with BOS and EOS ids", tokenizer.path());
  Sample sample;
  sample.source = document.source;
  sample.input_ids.push_back(tokenizer.bos_id());
  const auto ids = tokenizer.encode(document.text);
  sample.input_ids.insert(sample.input_ids.end(), ids.begin(), ids.end());
  sample.input_ids.push_back(tokenizer.eos_id());
  sample.labels = sample.input_ids;
  return sample;
}

Dataset load_dataset(const DataOptions& options, const Tokenizer& tokenizer) {
  Dataset ds;
  std::vector<Sample> encoded;
  if (options.format == DataFormat::sharegpt) {
    for (const auto& conv : read_sharegpt(options.path, options.skip_bad, &ds.read))
      encoded.push_back(encode_llama2_chat(tokenizer, conv, options.system_prompt));
  } else {
    for (const auto& doc : read_text_documents(options.path, options.skip_bad, &ds.read))
      encoded.push_back(encode_text_document(tokenizer, doc));
  }
  std::vector<Sample> fitted =
      fit_to_length(std::move(encoded), options.max_seq_len, options.min_tokens, options.overflow, &ds.length);
  ds.available = static_cast<int64_t>(fitted.size());
  if (options.num_samples > ds.available)
    log::warn("{}: num_samples = {} but only {} samples are usable; using all of them", options.path,
              options.num_samples, ds.available);
  for (int64_t i : select_samples(ds.available, options.num_samples, options.select, options.seed))
    ds.samples.push_back(std::move(fitted[i]));
  if (ds.samples.empty())
    fail("{}: no usable samples: of {} records, {} bad skipped, {} pieces dropped with fewer than data.min_tokens = {} "
         "tokens, {} dropped without a supervised token (e.g. truncation to data.max_seq_len = {} removed every "
         "assistant turn; {} truncated, {} split)", options.path, ds.read.records, ds.read.skipped, ds.length.too_short,
         options.min_tokens, ds.length.unsupervised, options.max_seq_len, ds.length.truncated, ds.length.split);

  int64_t tokens = 0;
  for (const auto& s : ds.samples) tokens += s.size();
  log::info("data {}: {} records ({} bad skipped), {} truncated, {} split, {} dropped < {} tokens, "
            "{} dropped without supervised tokens; {} of {} samples selected, {} tokens",
            options.path, ds.read.records, ds.read.skipped, ds.length.truncated, ds.length.split,
            ds.length.too_short, options.min_tokens, ds.length.unsupervised, ds.samples.size(), ds.available, tokens);
  return ds;
}

}  // namespace ctxext::data
