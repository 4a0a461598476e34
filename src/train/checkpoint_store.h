// Training checkpoints under <output_dir>/checkpoints/step-<N>/:
//   model.safetensors      weights (fp32 masters when training in bf16)    } train.sharding: none
//   optimizer.safetensors  AdamW moments and step counts                    } (rank 0 writes them)
//   zero-shard-<r>-of-<w>.safetensors  rank r's masters and moments: train.sharding: optimizer
//   rng_state.safetensors  torch's CPU generator state
//   trainer_state.json     step, data position, counters
//   config.yaml            the resolved config the run used
//   COMMITTED              written last: a folder without it is incomplete and ignored. It lists
//                          every other file with its size and CRC-32C (io/crc32c.h), checked on resume:
//                          {"format": 1, "files": {"model.safetensors": {"bytes": N, "crc32c": "8a9136aa"}, ...}}
//                          (empty in checkpoints written before checksums were recorded)
// Each folder is built under a dot-named temporary sibling and renamed into place (AtomicFolder).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace ctxext::train {

struct TrainerState {
  int64_t step = 0;            // optimizer steps completed
  int64_t data_position = 0;   // samples consumed
  int64_t skipped_steps = 0;   // steps skipped for NaN/Inf (nan_policy: skip)
  int64_t tokens_seen = 0;     // supervised tokens
};

struct Checkpoint {
  std::filesystem::path folder;
  TrainerState state;
  torch::Tensor rng_state;  // uint8
};

inline constexpr const char* kCommitMarker = "COMMITTED";

std::filesystem::path checkpoint_folder(const std::filesystem::path& output_dir, int64_t step);

// Writes one checkpoint atomically, then deletes the oldest complete ones beyond keep_last.
// `write_tensors` writes the weights and optimizer state into the temporary folder (in a
// distributed job it also waits for every rank's files there); the commit marker comes after it.
void save_checkpoint(const std::filesystem::path& output_dir, const TrainerState& state, const torch::Tensor& rng_state,
                     const std::string& config_yaml, int64_t keep_last,
                     const std::function<void(const std::filesystem::path&)>& write_tensors);

// The newest checkpoint folder with a commit marker, if any; incomplete folders are ignored. Its
// files are not read (see checkpoint_to_resume).
std::optional<std::filesystem::path> find_latest_checkpoint(const std::filesystem::path& output_dir);

// Why a complete checkpoint cannot be trusted, naming the file ("trainer_state.json: CRC-32C
// 1c291ca3, the commit marker recorded 5f2e0c11"), or nullopt when every file its commit marker
// lists is there with the recorded size and CRC-32C. A checkpoint written before checksums were
// recorded (empty marker) gives nullopt and a warning that it is loaded unverified.
std::optional<std::string> checkpoint_damage(const std::filesystem::path& folder);

// The checkpoint a run resumes from, by `resume`: "none" -> none; "auto" -> the newest complete
// checkpoint under output_dir whose files match their checksums, a damaged newer one being moved
// aside to step-N.damaged with a warning naming it, the reason and the checkpoint resumed instead
// (fails when every complete checkpoint is damaged; none when there is none); a folder -> that
// checkpoint, which must be complete and undamaged.
std::optional<std::filesystem::path> checkpoint_to_resume(const std::filesystem::path& output_dir,
                                                          const std::string& resume);

// The trainer state and RNG of a complete checkpoint; the weights and optimizer state are read by
// the train/weight_update.h strategy that wrote them.
Checkpoint load_checkpoint(const std::filesystem::path& folder);

// Only <folder>/trainer_state.json: where a checkpoint is, without reading its tensors.
TrainerState read_trainer_state(const std::filesystem::path& folder);

}  // namespace ctxext::train
