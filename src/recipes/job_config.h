// The whole YAML config of a job, parsed into every layer's typed options. Unknown keys anywhere
// are errors. Each layer owns its section's struct and parser; this file only assembles them.
#pragma once
#include <string>

#include "core/config.h"

namespace ctxext {

struct RuntimeOptions {
  int threads = 0;           // intra-op threads; 0 = all cores
  std::string device = "cpu";  // cpu | cuda
  int64_t seed = 0;
};

RuntimeOptions parse_runtime_options(const ConfigNode& node);

struct JobConfig {
  RuntimeOptions runtime;
  std::string output_dir;
  std::string summary() const;
};

JobConfig parse_job_config(const Config& config);

}  // namespace ctxext
