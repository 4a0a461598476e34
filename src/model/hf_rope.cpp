#include "model/hf_rope.h"

#include <cmath>

#include "core/config.h"
#include "core/error.h"

namespace ctxext {

namespace {

// HF keeps factor >= 1 (a warning there; an error here, since the frequencies would be nonsense).
double read_factor(const JsonFields& rope, double fallback) {
  const double factor = rope.number("factor", fallback);
  if (!(factor >= 1.0)) rope.reject("factor", "must be at least 1");
  return factor;
}

int64_t read_context(const JsonFields& fields, const std::string& key, int64_t fallback) {
  const int64_t value = fields.integer(key, fallback);
  if (value < 1) fields.reject(key, "must be at least 1");
  return value;
}

}  // namespace

RopeOptions read_hf_rope(const JsonFields& root, int64_t max_position_embeddings) {
  if (root.has("ctxext_rope")) return parse_ctxext_rope_json(root.raw("ctxext_rope"), root.origin());

  // transformers v5 lets a legacy rope_scaling override rope_parameters; the theta comes from the
  // chosen dict, else the top-level rope_theta, else HF's default 10000.
  const nlohmann::json empty = nlohmann::json::object();
  std::string dict_key = root.has("rope_scaling") ? "rope_scaling" : root.has("rope_parameters") ? "rope_parameters" : "";
  const JsonFields rope = dict_key.empty() ? JsonFields(empty, root.origin()) : root.object(dict_key);

  RopeOptions o;
  o.theta = rope.has("rope_theta") ? rope.number("rope_theta") : root.number("rope_theta", 10000.0);
  if (!(o.theta > 1.0)) (rope.has("rope_theta") ? rope : root).reject("rope_theta", "must be greater than 1");
  const std::string type_key = rope.has("rope_type") ? "rope_type" : "type";
  const std::string hf_type = rope.string(type_key, "default");
  // yarn and llama3: a top-level original_max_position_embeddings wins, as in HF's standardisation.
  const int64_t l0 = root.has("original_max_position_embeddings")
                         ? read_context(root, "original_max_position_embeddings", max_position_embeddings)
                         : read_context(rope, "original_max_position_embeddings", max_position_embeddings);

  if (hf_type == "default") {
    o.type = "none";
    o.factor = read_factor(rope, 1.0);
    o.original_max_position_embeddings = l0;
  } else if (hf_type == "linear") {
    o.type = "pi";
    o.factor = read_factor(rope, rope.number("factor"));
    o.original_max_position_embeddings = l0;
  } else if (hf_type == "dynamic") {
    // HF's dynamic formula scales from max_position_embeddings, whatever else the dict says.
    o.type = "dynamic_ntk";
    o.factor = read_factor(rope, rope.number("factor"));
    o.original_max_position_embeddings = max_position_embeddings;
  } else if (hf_type == "yarn") {
    o.type = "yarn";
    o.factor = read_factor(rope, rope.number("factor"));
    o.original_max_position_embeddings = l0;
    // HF: `beta_fast or 32`, so 0 means the default too.
    if (rope.number("beta_fast", 0.0) != 0.0) o.beta_fast = rope.number("beta_fast");
    if (rope.number("beta_slow", 0.0) != 0.0) o.beta_slow = rope.number("beta_slow");
    if (!(o.beta_fast > o.beta_slow)) rope.reject("beta_fast", "must be greater than beta_slow");
    o.mscale = rope.optional_number("mscale");
    o.mscale_all_dim = rope.optional_number("mscale_all_dim");
    o.attention_factor = rope.optional_number("attention_factor");
    if (o.attention_factor && !(*o.attention_factor > 0.0)) rope.reject("attention_factor", "must be positive");
    o.truncate = rope.boolean("truncate", true);
  } else if (hf_type == "llama3") {
    o.type = "llama3";
    o.factor = read_factor(rope, rope.number("factor"));
    o.original_max_position_embeddings = l0;
    o.low_freq_factor = rope.number("low_freq_factor");
    o.high_freq_factor = rope.number("high_freq_factor");
    if (!(o.low_freq_factor > 0.0)) rope.reject("low_freq_factor", "must be positive");
    if (!(o.high_freq_factor > o.low_freq_factor)) rope.reject("high_freq_factor", "must be greater than low_freq_factor");
  } else {
    rope.reject(type_key, "unknown RoPE type (ctxext reads: default, linear, dynamic, yarn, llama3)");
  }
  return o;
}

std::string hf_rope_type(const RopeOptions& rope) {
  if (rope.type == "pi") return "linear";
  if (rope.type == "dynamic_ntk") return "dynamic";
  if (rope.type == "yarn" || rope.type == "llama3") return rope.type;
  return "default";  // none, ntk, abf, eabf: plain RoPE with some base
}

nlohmann::json hf_rope_parameters(const RopeOptions& rope, int64_t head_dim) {
  if (rope.interleaved)
    fail("rope.interleaved = true (Meta's adjacent-pair layout) has no HF config equivalent: HF checkpoints rotate halves");
  double theta = rope.effective_theta();
  if (rope.type == "ntk") {
    // Same expression as rope/ntk.cpp, so the written base is the very double ctxext uses.
    const double alpha = rope.ntk_alpha > 0.0 ? rope.ntk_alpha : rope.factor;
    const double d = static_cast<double>(head_dim);
    theta = rope.theta * std::pow(alpha, d / (d - 2.0));
  }
  nlohmann::json p = {
      {"rope_type", hf_rope_type(rope)},
      {"rope_theta", theta},
      {"factor", rope.factor},
      {"original_max_position_embeddings", rope.original_max_position_embeddings},
  };
  if (rope.type == "yarn") {
    p["beta_fast"] = rope.beta_fast;
    p["beta_slow"] = rope.beta_slow;
    p["truncate"] = rope.truncate;
    if (rope.mscale) p["mscale"] = *rope.mscale;
    if (rope.mscale_all_dim) p["mscale_all_dim"] = *rope.mscale_all_dim;
    if (rope.attention_factor) p["attention_factor"] = *rope.attention_factor;
  } else if (rope.type == "llama3") {
    p["low_freq_factor"] = rope.low_freq_factor;
    p["high_freq_factor"] = rope.high_freq_factor;
  }
  return p;
}

int64_t hf_max_position_embeddings(const RopeOptions& rope) {
  return rope.type == "dynamic_ntk" ? rope.original_max_position_embeddings : rope.extended_context();
}

nlohmann::json ctxext_rope_json(const RopeOptions& rope) {
  nlohmann::json j = {
      {"type", rope.type},
      {"theta", rope.theta},
      {"factor", rope.factor},
      {"original_max_position_embeddings", rope.original_max_position_embeddings},
      {"interleaved", rope.interleaved},
      {"ntk_alpha", rope.ntk_alpha},
      {"beta_fast", rope.beta_fast},
      {"beta_slow", rope.beta_slow},
      {"truncate", rope.truncate},
      {"low_freq_factor", rope.low_freq_factor},
      {"high_freq_factor", rope.high_freq_factor},
      {"abf_theta", rope.abf_theta},
      {"eabf_context", rope.eabf_context},
      {"skip_layers", rope.eabf_skip_layers},
  };
  if (rope.mscale) j["mscale"] = *rope.mscale;
  if (rope.mscale_all_dim) j["mscale_all_dim"] = *rope.mscale_all_dim;
  if (rope.attention_factor) j["attention_factor"] = *rope.attention_factor;
  return j;
}

RopeOptions parse_ctxext_rope_json(const nlohmann::json& value, const std::string& origin) {
  if (!value.is_object()) fail("{}: key 'ctxext_rope': expected a JSON object, got {}", origin, value.type_name());
  // JSON is YAML, so the `rope:` section parser (ranges, unknown keys) checks it.
  const auto config = Config::parse(value.dump(), origin + " key 'ctxext_rope'");
  return parse_rope_options(config.root());
}

}  // namespace ctxext
