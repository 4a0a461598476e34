#include "recipes/job_config.h"

#include <fmt/format.h>

namespace ctxext {

RuntimeOptions parse_runtime_options(const ConfigNode& node) {
  RuntimeOptions o;
  o.threads = static_cast<int>(node.get_int("threads", 0, 0, 4096));
  o.device = node.get_choice("device", "cpu", {"cpu", "cuda"});
  o.seed = node.get_int("seed", 0, 0, INT64_MAX);
  node.check_no_unknown_keys();
  return o;
}

JobConfig parse_job_config(const Config& config) {
  const ConfigNode root = config.root();
  JobConfig job;
  job.runtime = parse_runtime_options(root.child("runtime"));
  job.output_dir = root.get<std::string>("output_dir", "runs/default");
  root.check_no_unknown_keys();
  return job;
}

std::string JobConfig::summary() const { return fmt::format("output_dir={}", output_dir); }

}  // namespace ctxext
