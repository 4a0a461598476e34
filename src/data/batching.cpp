#include "data/batching.h"

#include <algorithm>

#include "core/error.h"

namespace ctxext::data {

Batch make_batch(const std::vector<const Sample*>& samples, int64_t pad_id) {
  if (samples.empty()) fail("cannot build a batch from no samples");
  const int64_t b = static_cast<int64_t>(samples.size());
  int64_t s = 0;
  for (const Sample* sample : samples) {
    if (sample->size() == 0 || sample->labels.size() != sample->input_ids.size())
      fail("{}: sample has {} tokens and {} labels; cannot batch it", sample->source, sample->input_ids.size(),
           sample->labels.size());
    s = std::max(s, sample->size());
  }
  const auto opts = torch::TensorOptions().dtype(torch::kInt64);
  Batch batch{torch::full({b, s}, pad_id, opts), torch::full({b, s}, kIgnoreIndex, opts), torch::empty({b}, opts)};
  auto ids = batch.input_ids.accessor<int64_t, 2>();
  auto labels = batch.labels.accessor<int64_t, 2>();
  auto lengths = batch.lengths.accessor<int64_t, 1>();
  for (int64_t i = 0; i < b; ++i) {
    const Sample& sample = *samples[i];
    for (int64_t t = 0; t < sample.size(); ++t) {
      ids[i][t] = sample.input_ids[t];
      labels[i][t] = sample.labels[t];
    }
    lengths[i] = sample.size();
  }
  return batch;
}

Batch make_batch(const std::vector<Sample>& samples, const std::vector<int64_t>& indices, int64_t pad_id) {
  std::vector<const Sample*> chosen;
  chosen.reserve(indices.size());
  for (int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(samples.size()))
      fail("sample index {} is outside the data set of {} samples", i, samples.size());
    chosen.push_back(&samples[i]);
  }
  return make_batch(chosen, pad_id);
}

}  // namespace ctxext::data
