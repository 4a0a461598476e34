// config.json: the three RoPE dialects, every rejection, and export's complete RoPE description.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "model/hf_config.h"
#include "model/hf_rope.h"
#include "rope/rope_method.h"
#include "rope/rope_tables.h"
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
model::LlamaConfig read_json(const TempDir& dir, const nlohmann::json& json) {
  write_text(dir / "config.json", json.dump(2));
  return model::read_hf_config(dir / "config.json");
}

void check_rejected(const nlohmann::json& json, const std::string& key, const std::string& reason) {
  TempDir dir;
  write_text(dir / "config.json", json.dump(2));
  const std::string file = (dir / "config.json").string();
  CHECK_THROWS_AS(model::read_hf_config(file), Error);
  CHECK_THROWS_WITH(model::read_hf_config(file), Contains(file) && Contains(key) && Contains(reason));
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
  j["rope_scaling"] = {{"rope_type", "su"}, {"factor", 2.0}};
  check_rejected(j, "rope_scaling.rope_type", "unknown RoPE type");
}

TEST_CASE("hf config rejects: a scaled rope type without its factor, or a factor below 1", "[hf_config][reject]") {
  auto j = base_json();
  j["rope_parameters"] = {{"rope_type", "yarn"}};
  check_rejected(j, "rope_parameters.factor", "missing required key");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 0.5}};
  check_rejected(j, "rope_parameters.factor", "between 1 and");
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

TEST_CASE("hf config rejects: bad HF rope fields even when a ctxext_rope block describes the method",
          "[hf_config][reject]") {
  auto j = base_json();
  j["ctxext_rope"] = {{"type", "yarn"}, {"factor", 4.0}};
  j["rope_theta"] = "1e4";
  check_rejected(j, "rope_theta", "expected a number");
  j["rope_theta"] = -10000;
  check_rejected(j, "rope_theta", "greater than 1");
  j["rope_theta"] = 10000;
  j["rope_scaling"] = {1, 2};
  check_rejected(j, "rope_scaling", "expected a JSON object");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}, {"beta_fast", -1}};
  check_rejected(j, "rope_scaling.beta_fast", "greater than 0");
}

TEST_CASE("hf config rejects: max_position_embeddings null (it used to read as 2048)", "[hf_config][reject]") {
  auto j = base_json();
  j["max_position_embeddings"] = nullptr;
  check_rejected(j, "max_position_embeddings", "null");
}

TEST_CASE("hf config: a method with no registry entry has no HF form: an error, never plain RoPE", "[hf_config][export]") {
  auto config = model::llama_preset("tiny");
  config.rope.type = "rope2";
  CHECK_THROWS_WITH(model::hf_config_json(config, torch::kFloat32), Contains("unknown RoPE method 'rope2'"));
  CHECK_THROWS_WITH(model::hf_rope_type(config.rope), Contains("rope2"));
}

TEST_CASE("hf config rejects: invalid JSON, duplicate keys, missing file", "[hf_config][reject]") {
  TempDir dir;
  const auto file = (dir / "config.json").string();
  write_text(file, "{\"vocab_size\": 10,");
  CHECK_THROWS_WITH(model::read_hf_config(file), Contains(file));
  write_text(file, "{\"vocab_size\": 10, \"vocab_size\": 12}");
  CHECK_THROWS_WITH(model::read_hf_config(file), Contains(file) && Contains("vocab_size"));
  CHECK_THROWS_WITH(model::read_hf_config(dir / "absent.json"), Contains("absent.json"));
}

namespace {

// Every method of the registry, each of its keys set to a valid non-default value (so a key lost
// on the way shows), factor 4 over L0 = 256.
std::vector<rope::RopeOptions> every_method(int64_t head_dim) {
  std::vector<rope::RopeOptions> all;
  for (const auto* m : rope::all_rope_methods()) {
    rope::RopeOptions r;
    r.type = m->name;
    r.original_max_position_embeddings = 256;
    r.factor = std::string(m->name) == "none" ? 1.0 : 4.0;
    for (const auto& name : m->keys) {
      const auto& k = rope::find_rope_key(name);
      switch (k.kind) {
        case rope::RopeKey::Kind::number:
          r.*k.number = r.*k.number == 0.0 ? 16.0 : r.*k.number * 1.5;  // 0 -> 16: ntk_alpha, eabf_context
          break;
        case rope::RopeKey::Kind::integer: r.*k.integer = 0; break;  // skip_layers: every layer scaled
        case rope::RopeKey::Kind::boolean: r.*k.boolean = !(r.*k.boolean); break;
        case rope::RopeKey::Kind::optional_number: r.*k.optional_number = 1.25; break;
        case rope::RopeKey::Kind::number_list: {
          std::vector<double> values;
          for (int64_t i = 0; i < head_dim / 2; ++i) values.push_back(1.0 + 0.5 * static_cast<double>(i) + (name == "long_factor" ? 3.0 : 0.0));
          r.*k.number_list = values;
          break;
        }
      }
    }
    all.push_back(r);
  }
  return all;
}

// Frequencies, cos/sin scale and query scale of two descriptions are identical, up to and beyond L0.
void check_same_model(const rope::RopeOptions& a, const rope::RopeOptions& b, int64_t head_dim, bool query_scale) {
  for (int64_t seq_len : {int64_t{16}, int64_t{256}, int64_t{1024}}) {
    INFO("seq_len " << seq_len);
    const auto fa = rope::compute_rope_frequencies(a, head_dim, seq_len);
    const auto fb = rope::compute_rope_frequencies(b, head_dim, seq_len);
    CHECK(torch::equal(fa.inv_freq, fb.inv_freq));
    CHECK(fa.attention_scaling == fb.attention_scaling);
    if (!query_scale) continue;
    const auto positions = torch::arange(seq_len, torch::kInt64);
    for (int64_t layer : {0, 1, 3}) {
      const auto qa = rope::compute_query_scale(a, positions, layer);
      const auto qb = rope::compute_query_scale(b, positions, layer);
      REQUIRE(qa.defined() == qb.defined());
      if (qa.defined()) CHECK(torch::equal(qa, qb));
    }
  }
}

}  // namespace

TEST_CASE("hf config export: every method writes the complete RoPE description and reads back the same model",
          "[hf_config][export]") {
  auto config = model::llama_preset("tiny");
  const int64_t d = config.resolved_head_dim();
  for (const auto& rope : every_method(d)) {
    INFO("method " << rope.type);
    const auto& method = rope::find_rope_method(rope.type);
    config.rope = rope;
    const auto j = model::hf_config_json(config, torch::kBFloat16);
    // The complete description: what loses rope_scaling in peer tools must be here.
    const auto& p = j.at("rope_parameters");
    CHECK(p.at("rope_type") == method.hf.type);
    CHECK(p.at("factor") == rope.factor);
    CHECK(p.at("original_max_position_embeddings") == 256);
    CHECK(p.at("rope_theta").get<double>() == method.hf_theta(rope, d));
    CHECK(j.at("rope_theta") == p.at("rope_theta"));
    CHECK(j.at("max_position_embeddings") == (rope.type == "dynamic_ntk" ? 256 : 256 * rope.factor));
    if (p.at("rope_type") != "default") {
      REQUIRE(j.at("rope_scaling").is_object());
      CHECK(j.at("rope_scaling").at("factor") == rope.factor);
      CHECK(j.at("rope_scaling").at("rope_type") == p.at("rope_type"));
    }
    CHECK(j.at("dtype") == "bfloat16");
    // ctxext_rope: `type` and exactly the method's keys.
    const auto& block = j.at("ctxext_rope");
    CHECK(block.at("type") == rope.type);
    for (const auto& k : rope::rope_option_keys()) {
      const auto keys = method.all_keys();
      const bool active = std::find(keys.begin(), keys.end(), k.name) != keys.end();
      INFO("key " << k.name);
      CHECK(block.contains(k.name) == (active && (k.kind != rope::RopeKey::Kind::optional_number || (rope.*k.optional_number).has_value())));
    }

    TempDir dir;
    model::write_hf_config(dir / "config.json", config, torch::kBFloat16);
    const auto back = model::read_hf_config(dir / "config.json");
    CHECK(back.rope.type == rope.type);
    CHECK(model::ctxext_rope_json(back.rope) == model::ctxext_rope_json(rope));
    CHECK(back.hidden_size == config.hidden_size);
    check_same_model(rope, back.rope, d, true);

    // Without the ctxext key (a stock loader's view) every method reads back as the same
    // frequencies and cos/sin scale; only a frequencies_only method loses something (said in its form).
    auto stock = nlohmann::json::parse(read_text(dir / "config.json"));
    stock.erase("ctxext_rope");
    write_text(dir / "config.json", stock.dump());
    const auto stock_config = model::read_hf_config(dir / "config.json");
    check_same_model(rope, stock_config.rope, d, false);
    CHECK((method.hf.fidelity == rope::HfFidelity::exact) == (method.query_scale == nullptr));
  }
}

TEST_CASE("hf config export: interleaved (Meta layout) RoPE has no HF form and is refused", "[hf_config][export]") {
  auto config = model::llama_preset("tiny");
  config.rope.interleaved = true;
  CHECK_THROWS_WITH(model::hf_config_json(config, torch::kFloat32), Contains("interleaved"));
}
