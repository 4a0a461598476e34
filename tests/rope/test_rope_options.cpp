// parse_rope_options: every key, defaults from the checkpoint, and one clear error per bad input.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "rope/rope_options.h"

using Catch::Matchers::Contains;
using ctxext::Config;

namespace {

ctxext::rope::RopeOptions parse(const std::string& yaml, const ctxext::rope::RopeOptions& defaults = {}) {
  const auto config = Config::parse(yaml, "rope.yaml");
  return ctxext::rope::parse_rope_options(config.root().child("rope"), defaults);
}

}  // namespace

TEST_CASE("parse_rope_options reads every key", "[rope][options]") {
  const auto o = parse(
      "rope:\n  type: yarn\n  theta: 500000\n  factor: 4\n  original_max_position_embeddings: 8192\n"
      "  interleaved: true\n  ntk_alpha: 2\n  beta_fast: 16\n  beta_slow: 2\n  mscale: 1.0\n"
      "  mscale_all_dim: 0.8\n  attention_factor: 1.2\n  truncate: false\n  low_freq_factor: 2\n"
      "  high_freq_factor: 8\n  abf_theta: 1000000\n  eabf_context: 2048\n  skip_layers: 0\n"
      "  short_factor: [1, 1.5]\n  long_factor: [2, 4]\n");
  CHECK(o.type == "yarn");
  CHECK(o.theta == 500000.0);
  CHECK(o.factor == 4.0);
  CHECK(o.original_max_position_embeddings == 8192);
  CHECK(o.interleaved);
  CHECK(o.ntk_alpha == 2.0);
  CHECK(o.beta_fast == 16.0);
  CHECK(o.beta_slow == 2.0);
  CHECK(o.mscale == 1.0);
  CHECK(o.mscale_all_dim == 0.8);
  CHECK(o.attention_factor == 1.2);
  CHECK_FALSE(o.truncate);
  CHECK(o.low_freq_factor == 2.0);
  CHECK(o.high_freq_factor == 8.0);
  CHECK(o.abf_theta == 1e6);
  CHECK(o.eabf_context == 2048.0);
  CHECK(o.eabf_skip_layers == 0);
  CHECK(o.short_factor == std::vector<double>{1.0, 1.5});
  CHECK(o.long_factor == std::vector<double>{2.0, 4.0});
  CHECK(o.extended_context() == 32768);
  CHECK(o.effective_theta() == 500000.0);
}

TEST_CASE("parse_rope_options keeps the checkpoint's values for keys not given", "[rope][options]") {
  ctxext::rope::RopeOptions defaults;
  defaults.theta = 1e6;
  defaults.original_max_position_embeddings = 2048;
  defaults.mscale = 0.7;
  const auto o = parse("rope:\n  type: eabf\n", defaults);
  CHECK(o.type == "eabf");
  CHECK(o.theta == 1e6);
  CHECK(o.original_max_position_embeddings == 2048);
  CHECK(o.mscale == 0.7);
  CHECK(o.eabf_skip_layers == 2);
  CHECK(o.effective_theta() == 500000.0);
  CHECK(o.eabf_context == 0.0);  // c follows the model: L0
  CHECK(o.query_scale_context() == 2048.0);
}

TEST_CASE("parse_rope_options rejects an unknown key, naming it and its line", "[rope][options]") {
  CHECK_THROWS_WITH(parse("rope:\n  type: pi\n  facter: 4\n"),
                    Contains("rope.yaml:3") && Contains("unknown key 'rope.facter'") && Contains("factor"));
}

TEST_CASE("parse_rope_options rejects an unknown method, listing the known ones", "[rope][options]") {
  CHECK_THROWS_WITH(parse("rope:\n  type: rope2\n"),
                    Contains("rope.type = rope2") && Contains("none, pi, ntk, dynamic_ntk, yarn, llama3, abf, eabf"));
}

TEST_CASE("parse_rope_options rejects out-of-range values, naming key and reason", "[rope][options]") {
  struct Case {
    std::string yaml;
    std::string key;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"factor: 0.5", "rope.factor = 0.5", "between 1 and"},
      {"theta: 0", "rope.theta = 0", "greater than 1"},
      {"theta: -10000", "rope.theta = -10000", "greater than 1"},
      {"original_max_position_embeddings: 0", "rope.original_max_position_embeddings = 0", "between 1 and"},
      {"ntk_alpha: 0.5", "rope.ntk_alpha = 0.5", "0 (use factor) or between 1 and"},
      {"beta_fast: 1\n  beta_slow: 2", "rope.beta_fast = 1", "greater than beta_slow (2)"},
      {"beta_slow: 0", "rope.beta_slow = 0", "greater than 0"},
      {"mscale: -1", "rope.mscale = -1", "greater than 0"},
      {"mscale_all_dim: 0", "rope.mscale_all_dim = 0", "greater than 0"},
      {"attention_factor: 0", "rope.attention_factor = 0", "greater than 0"},
      {"low_freq_factor: 4\n  high_freq_factor: 4", "rope.high_freq_factor = 4", "greater than low_freq_factor (4)"},
      {"abf_theta: 1", "rope.abf_theta = 1", "greater than 1"},
      {"eabf_context: 1", "rope.eabf_context = 1", "0 (the original context) or greater than 1"},
      {"short_factor: [1, -2]", "rope.short_factor", "every value must be greater than 0 (found -2)"},
      {"skip_layers: -1", "rope.skip_layers = -1", "between 0 and"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    CHECK_THROWS_WITH(parse("rope:\n  " + c.yaml + "\n"), Contains(c.key) && Contains(c.reason));
  }
}

TEST_CASE("parse_rope_options rejects values of the wrong type", "[rope][options]") {
  CHECK_THROWS_WITH(parse("rope:\n  truncate: maybe\n"), Contains("rope.truncate") && Contains("expected a boolean"));
  CHECK_THROWS_WITH(parse("rope:\n  factor: four\n"), Contains("rope.factor") && Contains("expected a number"));
  CHECK_THROWS_WITH(parse("rope:\n  skip_layers: 1.5\n"), Contains("rope.skip_layers") && Contains("expected an integer"));
  CHECK_THROWS_WITH(parse("rope:\n  long_factor: 2\n"), Contains("rope.long_factor") && Contains("a list of numbers"));
}
