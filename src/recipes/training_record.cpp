#include "recipes/training_record.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ctxext/build_info.h"
#include "io/crc32c.h"

namespace ctxext::recipes {

std::optional<double> logged_loss(const std::filesystem::path& metrics_file, int64_t step) {
  std::optional<double> loss;
  std::ifstream in(metrics_file);
  for (std::string line; std::getline(in, line);) {
    const auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object() || !row.contains("step") || !row["step"].is_number_integer() ||
        row["step"].get<int64_t>() != step)
      continue;
    loss = row.contains("loss") && row["loss"].is_number() ? std::optional<double>(row["loss"].get<double>())
                                                           : std::nullopt;
  }
  return loss;
}

std::string training_record_json(const Config& config, const JobConfig& job, int64_t steps, int64_t skipped_steps,
                                 std::optional<double> final_loss) {
  const io::FileChecksum data = io::file_crc32c(job.data.path);
  nlohmann::json record;
  record["ctxext_version"] = CTXEXT_VERSION;
  record["written_utc"] = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
  record["steps"] = steps;
  record["skipped_steps"] = skipped_steps;
  record["final_loss"] = final_loss && std::isfinite(*final_loss) ? nlohmann::json(*final_loss) : nlohmann::json();
  record["data"] = {{"path", job.data.path}, {"bytes", data.bytes}, {"crc32c", fmt::format("{:08x}", data.crc32c)}};
  record["config_yaml"] = config.to_yaml();
  return record.dump(2) + "\n";
}

}  // namespace ctxext::recipes
