// Pre-flight: everything about a training job that can be checked without the weights, checked
// before they are loaded (ctxext validate, and the start of TrainRecipe::setup()). Reads the model
// folder's config.json, the tokenizer and the data file; each failure is one line naming the key or
// file and what to fix.
#pragma once
#include <string>

#include "recipes/job_config.h"

namespace ctxext::recipes {

// runtime.device, the model's config.json, the tokenizer (present, vocabulary within the model's) and
// data.path (a readable regular file).
// `source` names the config in messages.
void preflight_check(const JobConfig& job, const std::string& source);

}  // namespace ctxext::recipes
