// config.json: the three RoPE dialects, every rejection, and export's complete RoPE description.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "core/error.h"
#include "model/hf_config.h"
#include "model/hf_rope.h"
#include "rope/rope_method.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

nlohmann::json base_json() {
  return {{"model_type", "llama"},          {"vocab_size", 1000},           {"hidden_size", 64},
          {"intermediate_size", 128},       {"num_hidden_layers", 2},       {"num_attention_heads", 4},
          {"num_key_value_heads", 2},       {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-5}};
}

// Writes `json` as DIR/config.json and reads it back.
LlamaConfig read_json(const TempDir& dir, const nlohmann::json& json) {
  write_text(dir / "config.json", json.dump(2));
  return read_hf_config(dir / "config.json");
}

void check_rejected(const nlohmann::json& json, const std::string& key, const std::string& reason) {
  TempDir dir;
  write_text(dir / "config.json", json.dump(2));
  const std::string file = (dir / "config.json").string();
  CHECK_THROWS_AS(read_hf_config(file), Error);
  CHECK_THROWS_WITH(read_hf_config(file), Contains(file) && Contains(key) && Contains(reason));
}

}  // namespace

TEST_CASE("hf config: plain LLaMA-2 config.json", "[hf_config]") {
  TempDir dir;
  auto j = base_json();
  j["rope_theta"] = 10000.0;
  j["rope_scaling"] = nullptr;
  const auto c = read_json(dir, j);
  CHECK(c.hidden_size == 64);
  CHECK(c.num_key_value_heads == 2);
  CHECK(c.resolved_head_dim() == 16);
  CHECK(c.rope.type == "none");
  CHECK(c.rope.theta == 10000.0);
  CHECK(c.rope.original_max_position_embeddings == 256);
}

TEST_CASE("hf config: transformers v5 rope_parameters dialect", "[hf_config]") {
  TempDir dir;
  auto j = base_json();
  j["rope_parameters"] = {{"rope_type", "yarn"},  {"rope_theta", 50000.0}, {"factor", 4.0},
                          {"original_max_position_embeddings", 64}, {"beta_fast", 16.0}, {"beta_slow", 2.0},
                          {"mscale", 1.1},        {"mscale_all_dim", 0.9}, {"truncate", false}};
  const auto c = read_json(dir, j);
  CHECK(c.rope.type == "yarn");
  CHECK(c.rope.theta == 50000.0);
  CHECK(c.rope.factor == 4.0);
  CHECK(c.rope.original_max_position_embeddings == 64);
  CHECK(c.rope.beta_fast == 16.0);
  CHECK(c.rope.beta_slow == 2.0);
  CHECK(c.rope.mscale == 1.1);
  CHECK(c.rope.mscale_all_dim == 0.9);
  CHECK_FALSE(c.rope.truncate);
}

TEST_CASE("hf config: legacy rope_scaling with `type` and with `rope_type`, top-level rope_theta", "[hf_config]") {
  TempDir dir;
  auto j = base_json();
  j["rope_theta"] = 20000.0;
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  auto c = read_json(dir, j);
  CHECK(c.rope.type == "pi");
  CHECK(c.rope.factor == 2.0);
  CHECK(c.rope.theta == 20000.0);

  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 3.0}};
  c = read_json(dir, j);
  CHECK(c.rope.type == "dynamic_ntk");
  CHECK(c.rope.factor == 3.0);
  CHECK(c.rope.original_max_position_embeddings == 256);  // HF's dynamic scales from max_position_embeddings

  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 128}};
  c = read_json(dir, j);
  CHECK(c.rope.type == "llama3");
  CHECK(c.rope.original_max_position_embeddings == 128);
  CHECK(c.rope.high_freq_factor == 4.0);
}

TEST_CASE("hf config: the ctxext_rope key wins over the HF description", "[hf_config]") {
  TempDir dir;
  auto j = base_json();
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500000.0}};
  j["ctxext_rope"] = {{"type", "eabf"}, {"abf_theta", 500000.0}, {"factor", 4.0}, {"skip_layers", 0}};
  const auto c = read_json(dir, j);
  CHECK(c.rope.type == "eabf");
  CHECK(c.rope.eabf_skip_layers == 0);
  CHECK(c.rope.factor == 4.0);
}

TEST_CASE("hf config rejects: missing required field", "[hf_config][reject]") {
  auto j = base_json();
  j.erase("hidden_size");
  check_rejected(j, "hidden_size", "missing required key");
}

TEST_CASE("hf config rejects: wrong type", "[hf_config][reject]") {
  auto j = base_json();
  j["num_attention_heads"] = "4";
  check_rejected(j, "num_attention_heads", "expected an integer");
  j = base_json();
  j["rope_scaling"] = 3;
  check_rejected(j, "rope_scaling", "expected a JSON object");
  j = base_json();
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", "2"}};
  check_rejected(j, "rope_parameters.factor", "expected a number");
}

TEST_CASE("hf config rejects: inconsistent head counts and shapes", "[hf_config][reject]") {
  auto j = base_json();
  j["num_key_value_heads"] = 3;
  check_rejected(j, "num_key_value_heads", "not a multiple");
  j = base_json();
  j["num_attention_heads"] = 5;
  j["num_key_value_heads"] = 5;
  check_rejected(j, "hidden_size", "not divisible");
  j = base_json();
  j["num_hidden_layers"] = 0;
  check_rejected(j, "num_hidden_layers", "at least 1");
}

TEST_CASE("hf config rejects: unknown rope type", "[hf_config][reject]") {
  auto j = base_json();
  j["rope_scaling"] = {{"rope_type", "longrope"}, {"factor", 2.0}};
  check_rejected(j, "rope_scaling.rope_type", "unknown RoPE type");
}

TEST_CASE("hf config rejects: a scaled rope type without its factor, or a factor below 1", "[hf_config][reject]") {
  auto j = base_json();
  j["rope_parameters"] = {{"rope_type", "yarn"}};
  check_rejected(j, "rope_parameters.factor", "missing required key");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 0.5}};
  check_rejected(j, "rope_parameters.factor", "at least 1");
}

TEST_CASE("hf config rejects: another architecture, biases, a bad ctxext_rope", "[hf_config][reject]") {
  auto j = base_json();
  j["model_type"] = "gpt2";
  check_rejected(j, "model_type", "LLaMA");
  j = base_json();
  j["attention_bias"] = true;
  check_rejected(j, "attention_bias", "no bias");
  j = base_json();
  j["ctxext_rope"] = {{"type", "eabf"}, {"eabf_contxt", 4096}};
  check_rejected(j, "ctxext_rope", "eabf_contxt");
}

TEST_CASE("hf config rejects: invalid JSON, duplicate keys, missing file", "[hf_config][reject]") {
  TempDir dir;
  const auto file = (dir / "config.json").string();
  write_text(file, "{\"vocab_size\": 10,");
  CHECK_THROWS_WITH(read_hf_config(file), Contains(file));
  write_text(file, "{\"vocab_size\": 10, \"vocab_size\": 12}");
  CHECK_THROWS_WITH(read_hf_config(file), Contains(file) && Contains("vocab_size"));
  CHECK_THROWS_WITH(read_hf_config(dir / "absent.json"), Contains("absent.json"));
}

namespace {

std::vector<RopeOptions> every_method() {
  std::vector<RopeOptions> all;
  for (const auto& name : rope_method_names()) {
    RopeOptions r;
    r.type = name;
    r.original_max_position_embeddings = 256;
    r.factor = name == "none" ? 1.0 : 4.0;
    if (name == "yarn") {
      r.beta_fast = 24.0;
      r.mscale = 1.0;
      r.mscale_all_dim = 0.5;
    }
    if (name == "eabf") r.eabf_skip_layers = 0;
    all.push_back(r);
  }
  return all;
}

}  // namespace

TEST_CASE("hf config export: every method writes the complete RoPE description and reads back equal",
          "[hf_config][export]") {
  for (const auto& rope : every_method()) {
    INFO("method " << rope.type);
    auto config = llama_preset("tiny");
    config.rope = rope;
    const auto j = hf_config_json(config, torch::kBFloat16);
    // The complete description: what loses rope_scaling in peer tools must be here.
    const auto& p = j.at("rope_parameters");
    CHECK(p.at("rope_type") == hf_rope_type(rope));
    CHECK(p.at("factor") == rope.factor);
    CHECK(p.at("original_max_position_embeddings") == 256);
    CHECK(p.at("rope_theta").get<double>() > 1.0);
    CHECK(j.at("rope_theta") == p.at("rope_theta"));
    CHECK(j.at("max_position_embeddings") == (rope.type == "dynamic_ntk" ? 256 : 256 * rope.factor));
    if (p.at("rope_type") != "default") {
      REQUIRE(j.at("rope_scaling").is_object());
      CHECK(j.at("rope_scaling").at("factor") == rope.factor);
      CHECK(j.at("rope_scaling").at("rope_type") == p.at("rope_type"));
    }
    CHECK(j.at("dtype") == "bfloat16");
    CHECK(j.at("ctxext_rope").at("type") == rope.type);

    TempDir dir;
    write_hf_config(dir / "config.json", config, torch::kBFloat16);
    const auto back = read_hf_config(dir / "config.json");
    CHECK(ctxext_rope_json(back.rope) == ctxext_rope_json(rope));
    CHECK(back.hidden_size == config.hidden_size);

    // Without the ctxext key (a stock loader's view) HF-known methods read back as the same frequencies.
    auto stock = nlohmann::json::parse(read_text(dir / "config.json"));
    stock.erase("ctxext_rope");
    write_text(dir / "config.json", stock.dump());
    const auto stock_config = read_hf_config(dir / "config.json");
    const int64_t d = config.resolved_head_dim();
    if (rope.type != "eabf") {
      for (int64_t seq_len : {int64_t{16}, int64_t{1024}}) {
        const auto ours = compute_rope_frequencies(rope, d, seq_len);
        const auto theirs = compute_rope_frequencies(stock_config.rope, d, seq_len);
        CHECK(torch::equal(ours.inv_freq, theirs.inv_freq));
        CHECK(ours.attention_scaling == theirs.attention_scaling);
      }
    }
  }
}

TEST_CASE("hf config export: interleaved (Meta layout) RoPE has no HF form and is refused", "[hf_config][export]") {
  auto config = llama_preset("tiny");
  config.rope.interleaved = true;
  CHECK_THROWS_WITH(hf_config_json(config, torch::kFloat32), Contains("interleaved"));
}
