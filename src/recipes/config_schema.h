// Every key a training config accepts, as data: type, default, allowed values, one-line effect.
//
// The parsers (recipes/job_config.cpp and each section's parse_*_options) stay the authority on what
// is accepted; tests/recipes/test_config_schema.cpp proves this table agrees with them (same keys, same
// defaults, each example accepted and changing the parsed JobConfig) and that docs/config.md holds
// config_reference_markdown() as generated (`ctxext validate --reference` prints it).
#pragma once
#include <string>
#include <vector>

namespace ctxext::recipes {

struct ConfigKeySpec {
  std::string key;           // "train.lr"
  std::string type;          // integer | number | boolean | string | one of | file | folder | list of ...
  std::string fallback;      // the default as the parser records it ("2e-05"), or how it is found
  bool literal_fallback;     // fallback is the literal default (else: "the preset's", "required", ...)
  std::string allowed;       // the range or the choices
  std::string example;       // a valid value other than the default; "" when only the default is accepted
  std::string example_with;  // another key=value the example needs to be valid, or ""
  std::string effect;        // what the key changes, one line
};

struct ConfigSectionSpec {
  const char* name;  // "train"; "" for the top level
  const char* about;
};

const std::vector<ConfigSectionSpec>& config_sections();
const std::vector<ConfigKeySpec>& config_schema();

// The key reference of docs/config.md: one Markdown table per section.
std::string config_reference_markdown();

}  // namespace ctxext::recipes
