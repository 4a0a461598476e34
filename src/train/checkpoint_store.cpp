#include "train/checkpoint_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "core/error.h"
#include "core/file_kind.h"
#include "core/text_file.h"
#include "core/fault_injection.h"
#include "core/log.h"
#include "io/atomic_folder.h"
#include "io/crc32c.h"
#include "io/safetensors.h"
#include "io/strict_json.h"

namespace ctxext::train {

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

constexpr int kMarkerFormat = 1;

// The commit marker's text: every file under `folder` with its size and CRC-32C.
std::string checksum_marker(const fs::path& folder) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const io::FileChecksum sum = io::file_crc32c(entry.path());
    files[entry.path().lexically_relative(folder).string()] = {{"bytes", sum.bytes},
                                                               {"crc32c", fmt::format("{:08x}", sum.crc32c)}};
  }
  return nlohmann::json{{"format", kMarkerFormat}, {"files", files}}.dump(1) + "\n";
}

// Where the files a marker lists are checked against it: the first that differs, described.
std::optional<std::string> first_mismatch(const fs::path& folder, const nlohmann::json& files) {
  for (const auto& [name, recorded] : files.items()) {
    const fs::path relative(name);
    const bool inside = !name.empty() && relative.is_relative() &&
                        std::none_of(relative.begin(), relative.end(), [](const fs::path& part) { return part == ".."; });
    if (!inside)
      return fmt::format("{}: lists {}, which is not a file inside the checkpoint", kCommitMarker,
                         io::json_excerpt(nlohmann::json(name)));
    if (!recorded.is_object() || !recorded.contains("bytes") || !recorded["bytes"].is_number_unsigned() ||
        !recorded.contains("crc32c") || !recorded["crc32c"].is_string())
      return fmt::format("{}: the entry of {} lacks 'bytes' or 'crc32c'", kCommitMarker,
                         io::json_excerpt(nlohmann::json(name)));
    const fs::path file = folder / relative;
    const std::string kind = file_kind(file);
    if (kind != "is a regular file") return fmt::format("{} {}", name, kind);
    io::FileChecksum found;
    try {
      found = io::file_crc32c(file);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    if (found.bytes != recorded["bytes"].get<uint64_t>())
      return fmt::format("{}: {} bytes, the commit marker recorded {}", name, found.bytes,
                         recorded["bytes"].get<uint64_t>());
    const std::string crc = fmt::format("{:08x}", found.crc32c);
    if (crc != recorded["crc32c"].get<std::string>())
      return fmt::format("{}: CRC-32C {}, the commit marker recorded {}", name, crc,
                         recorded["crc32c"].get<std::string>().substr(0, 16));
  }
  return std::nullopt;
}

// `folder` renamed to "<name>.damaged" (or .damaged-2, ...): no longer a step-N checkpoint, still
// there to inspect. Another rank of the job may have moved it already.
std::string move_aside(const fs::path& folder) {
  fs::path target = folder.parent_path() / (folder.filename().string() + ".damaged");
  for (int n = 2; fs::exists(fs::symlink_status(target)); ++n)
    target = folder.parent_path() / fmt::format("{}.damaged-{}", folder.filename().string(), n);
  std::error_code ec;
  fs::rename(folder, target, ec);
  if (!ec) return fmt::format("moved to {}", target.string());
  if (!fs::exists(fs::symlink_status(folder))) return "moved aside";
  return fmt::format("left in place (cannot rename it: {})", ec.message());
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
    io::AtomicFolder folder(final_path);
    write_tensors(folder.path());
    fault_point(fmt::format("checkpoint-{}", state.step));
    io::write_safetensors(folder.path() / "rng_state.safetensors", {{"cpu", rng_state}});
    const nlohmann::json json = {{"step", state.step},
                                 {"data_position", state.data_position},
                                 {"skipped_steps", state.skipped_steps},
                                 {"tokens_seen", state.tokens_seen}};
    io::write_file_atomic(folder.path() / "trainer_state.json", json.dump(2) + "\n");
    io::write_file_atomic(folder.path() / "config.yaml", config_yaml + "\n");
    folder.commit(kCommitMarker, checksum_marker(folder.path()));
  }
  log::info("checkpoint saved: {}", final_path.string());
  auto all = complete_checkpoints(output_dir);
  for (size_t i = 0; i + keep_last < all.size(); ++i) io::remove_tree(all[i].second);
}

std::optional<fs::path> find_latest_checkpoint(const fs::path& output_dir) {
  auto all = complete_checkpoints(output_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

std::optional<std::string> checkpoint_damage(const fs::path& folder) {
  const fs::path marker = folder / kCommitMarker;
  const std::string text = read_text_file(marker, "commit marker");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    log::warn("{}: written before checkpoints recorded checksums; its files are loaded unverified", folder.string());
    return std::nullopt;
  }
  nlohmann::json json;
  try {
    json = io::parse_strict_json(text, kCommitMarker);
  } catch (const Error& e) {
    return std::string(e.what());
  }
  const bool known = json.is_object() && json.contains("format") && json["format"] == kMarkerFormat &&
                     json.contains("files") && json["files"].is_object();
  if (!known)
    return fmt::format("{}: not a format-{} commit marker with a 'files' object", kCommitMarker, kMarkerFormat);
  return first_mismatch(folder, json["files"]);
}

std::optional<fs::path> checkpoint_to_resume(const fs::path& output_dir, const std::string& resume) {
  if (resume == "none") return std::nullopt;
  if (resume != "auto") {
    const fs::path folder(resume);
    if (!fs::exists(folder / kCommitMarker))
      fail("{}: not a complete checkpoint (no {} marker)", folder.string(), kCommitMarker);
    if (const auto damage = checkpoint_damage(folder))
      fail("{}: damaged checkpoint: {}. resume= names this folder, so there is no other to fall back to "
           "(resume=auto takes the newest intact checkpoint of the output_dir)", folder.string(), *damage);
    return folder;
  }
  const auto all = complete_checkpoints(output_dir);
  std::vector<std::pair<fs::path, std::string>> damaged;  // newest first
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const auto damage = checkpoint_damage(it->second);
    if (!damage) {
      for (const auto& [folder, reason] : damaged)
        log::warn("{}: damaged checkpoint ({}); {}; resuming from the previous complete checkpoint {} instead",
                  folder.string(), reason, move_aside(folder), it->second.string());
      return it->second;
    }
    damaged.emplace_back(it->second, *damage);
  }
  if (damaged.empty()) return std::nullopt;
  std::vector<std::string> each;
  for (const auto& [folder, reason] : damaged) each.push_back(fmt::format("{} ({})", folder.filename().string(), reason));
  fail("{}: every complete checkpoint is damaged: {}. resume=none starts over (a new output_dir keeps these)",
       (output_dir / "checkpoints").string(), fmt::join(each, "; "));
}

Checkpoint load_checkpoint(const fs::path& folder) {
  if (!fs::exists(folder / kCommitMarker)) fail("{}: not a complete checkpoint (no {} marker)", folder.string(), kCommitMarker);
  Checkpoint c;
  c.folder = folder;
  auto rng = io::read_safetensors(folder / "rng_state.safetensors").tensors;
  if (!rng.count("cpu")) fail("{}: no tensor 'cpu'", (folder / "rng_state.safetensors").string());
  c.rng_state = rng.at("cpu").clone();
  c.state = read_trainer_state(folder);
  return c;
}

TrainerState read_trainer_state(const fs::path& folder) {
  const fs::path state_file = folder / "trainer_state.json";
  TrainerState state;
  const auto json = io::parse_strict_json(read_text_file(state_file, "trainer state"), state_file.string());
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

}  // namespace ctxext::train
