// A checkpoint is resumed only under the config it was trained with.
//
// Every checkpoint stores the resolved config of its run (config.yaml). Before resuming, both configs
// are parsed like any job config and compared key by key on their effective values (defaults filled
// in, numbers compared as numbers). A difference in a key that changes what was trained (the table in
// resume_guard.cpp: model, rope, data, batch arithmetic, optimizer, precision, seed; any key not in
// the table) refuses with one line naming each key and both values; keys listed in the config's
// `resume_allow_changed` are let through on purpose. Keys that only say how far, where or how the run
// goes on (train.steps, train.epochs, checkpoint.*, export.*, runtime.threads/device, output_dir,
// resume) may change: a run is extended by raising train.steps or train.epochs, never shortened.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "recipes/job_config.h"

namespace ctxext::recipes {

// Whether a different value of `key` ("train.lr") between a checkpoint's config and the resuming
// run's config changes what was trained.
bool changes_training(const std::string& key);

// Key path -> effective value of every key the job parser reads, defaults included; train.precision
// `auto` is spelled with what it resolves to on runtime.device ("auto (bf16 on cuda)").
std::map<std::string, std::string> resolved_job_values(const Config& config);

// Two effective values as read_values() spells them are the same: equal text, or numbers equal as
// numbers ("2e-05" and "2.0e-5").
bool same_config_value(const std::string& a, const std::string& b);

struct ConfigChange {
  std::string key;
  std::string before;  // the checkpoint's value, "(not set)" when it had no such key
  std::string after;   // this run's value
};

// The keys whose values differ (numbers equal as numbers are equal), in key order.
std::vector<ConfigChange> config_changes(const std::map<std::string, std::string>& before,
                                         const std::map<std::string, std::string>& after);

enum class ResumeDecision {
  resume,            // load the checkpoint and train on from it
  already_complete,  // the run's final checkpoint and export exist: nothing to do
};

// Decides whether the run of `config` (parsed as `job`, `steps` steps once the data is resolved) may
// resume `checkpoint`. Fails (Error, one line) when the config changes what was trained (keys in
// job.resume_allow_changed excepted), or when the checkpoint is past `steps` (a run cannot go back).
// already_complete: the checkpoint is at `steps`, it is job.output_dir's newest, and the export
// (when enabled) was written after it.
ResumeDecision check_resume(const std::filesystem::path& checkpoint, const Config& config, const JobConfig& job,
                            int64_t steps);

}  // namespace ctxext::recipes
