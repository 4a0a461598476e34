// Golden parity with Hugging Face transformers (tests/oracle/rope_reference.py): inv_freq,
// attention_scaling and cos/sin tables of a RoPE method against transformers' own
// LlamaRotaryEmbedding (one fresh module, one forward over the listed positions).
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "rope/rope_options.h"

namespace ctxext::testing {

struct ParitySpec {
  rope::RopeOptions options;
  int64_t head_dim;
  int64_t max_position_embeddings;  // HF config.max_position_embeddings
  nlohmann::json hf_rope_parameters;
  std::vector<int64_t> positions;
};
using ParitySpecs = std::map<std::string, ParitySpec>;

// Positions from 0 to 4 * mpe - 1: the edges of the original window, its multiples, and an even grid.
std::vector<int64_t> long_positions(int64_t mpe);
std::vector<int64_t> positions_below(int64_t last);
rope::RopeOptions make_options(const std::string& type, double theta, double factor, int64_t l0);

// Checks specs.at(name) against HF: inv_freq to 1e-6 relative, attention_scaling, cos/sin to 2e-6.
// All specs of `specs` go to ONE Python call per process; its JSON answer is cached next to the test
// binary, keyed by a hash of the specs, the oracle script and requirements.txt, so CTest's one
// process per test case does not pay the transformers import (several seconds) for every case.
void check_against_hf(const ParitySpecs& specs, const std::string& name);

}  // namespace ctxext::testing
