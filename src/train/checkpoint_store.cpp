#include "train/checkpoint_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "core/error.h"
#include "core/text_file.h"
#include "core/fault_injection.h"
#include "core/log.h"
#include "io/atomic_folder.h"
#include "io/safetensors.h"
#include "io/strict_json.h"

namespace ctxext {

namespace fs = std::filesystem;

namespace {
// Complete checkpoints, oldest first.
std::vector<std::pair<int64_t, fs::path>> complete_checkpoints(const fs::path& output_dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  const fs::path root = output_dir / "checkpoints";
  if (!fs::is_directory(root)) return found;
  static const std::regex pattern("step-([0-9]+)");
  for (const auto& entry : fs::directory_iterator(root)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(name, m, pattern)) continue;
    if (!fs::exists(entry.path() / kCommitMarker)) continue;
    found.emplace_back(std::stoll(m[1]), entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}
}  // namespace

fs::path checkpoint_folder(const fs::path& output_dir, int64_t step) {
  return output_dir / "checkpoints" / fmt::format("step-{}", step);
}

void save_checkpoint(const fs::path& output_dir, const TrainerState& state, const torch::Tensor& rng_state,
                     const std::string& config_yaml, int64_t keep_last,
                     const std::function<void(const fs::path&)>& write_tensors) {
  fs::create_directories(output_dir / "checkpoints");
  const fs::path final_path = checkpoint_folder(output_dir, state.step);
  {
    AtomicFolder folder(final_path);
    write_tensors(folder.path());
    fault_point(fmt::format("checkpoint-{}", state.step));
    write_safetensors(folder.path() / "rng_state.safetensors", {{"cpu", rng_state}});
    const nlohmann::json json = {{"step", state.step},
                                 {"data_position", state.data_position},
                                 {"skipped_steps", state.skipped_steps},
                                 {"tokens_seen", state.tokens_seen}};
    write_file_atomic(folder.path() / "trainer_state.json", json.dump(2) + "\n");
    write_file_atomic(folder.path() / "config.yaml", config_yaml + "\n");
    folder.commit(kCommitMarker);
  }
  log::info("checkpoint saved: {}", final_path.string());
  auto all = complete_checkpoints(output_dir);
  for (size_t i = 0; i + keep_last < all.size(); ++i) remove_tree(all[i].second);
}

std::optional<fs::path> find_latest_checkpoint(const fs::path& output_dir) {
  auto all = complete_checkpoints(output_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

Checkpoint load_checkpoint(const fs::path& folder) {
  if (!fs::exists(folder / kCommitMarker)) fail("{}: not a complete checkpoint (no {} marker)", folder.string(), kCommitMarker);
  Checkpoint c;
  c.folder = folder;
  auto rng = read_safetensors(folder / "rng_state.safetensors").tensors;
  if (!rng.count("cpu")) fail("{}: no tensor 'cpu'", (folder / "rng_state.safetensors").string());
  c.rng_state = rng.at("cpu").clone();
  c.state = read_trainer_state(folder);
  return c;
}

TrainerState read_trainer_state(const fs::path& folder) {
  const fs::path state_file = folder / "trainer_state.json";
  TrainerState state;
  const auto json = parse_strict_json(read_text_file(state_file, "trainer state"), state_file.string());
  try {
    state.step = json.at("step").get<int64_t>();
    state.data_position = json.at("data_position").get<int64_t>();
    state.skipped_steps = json.at("skipped_steps").get<int64_t>();
    state.tokens_seen = json.at("tokens_seen").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid trainer state: {}", state_file.string(), e.what());
  }
  return state;
}

}  // namespace ctxext
