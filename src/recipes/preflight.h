// Pre-flight: everything about a training job that can be checked without the weights, checked
// before they are loaded (ctxext validate, and the start of TrainRecipe::setup()). Reads the model
// folder's config.json and the tokenizer, and looks at the data files; each failure is one line
// naming the key or file and what to fix. The records themselves are read next, by
// data::load_dataset, still before any weight (validate's plan, TrainRecipe::setup()'s data step).
#pragma once
#include <string>

#include "model/llama_config.h"
#include "recipes/job_config.h"

namespace ctxext::recipes {

// runtime.device, the model's config.json, the tokenizer (present, vocabulary within the model's),
// data.path and data.eval_path (readable regular files) and data.max_seq_len (within the context the
// job trains for). Returns the model's shape with the RoPE method the job trains (job.rope).
// `source` names the config in messages.
model::LlamaConfig preflight_check(const JobConfig& job, const std::string& source);

}  // namespace ctxext::recipes
