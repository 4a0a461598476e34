#include "model/hf_rope.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "rope/rope_method.h"

namespace ctxext::model {

namespace {

void check_value(const JsonFields& fields, const std::string& hf_key, const rope::RopeKey& k, double v) {
  const auto reason = k.check(v);
  if (!reason.empty()) fields.reject(hf_key, reason);
}

int64_t read_context(const JsonFields& fields, int64_t fallback) {
  const auto& k = rope::find_rope_key("original_max_position_embeddings");
  const int64_t value = fields.integer(k.hf_name, fallback);
  check_value(fields, k.hf_name, k, static_cast<double>(value));
  return value;
}

// One method key from an HF rope dict, checked against the key's range.
void read_key(const JsonFields& rope, const rope::RopeKey& k, rope::RopeOptions& o) {
  using Kind = rope::RopeKey::Kind;
  const std::string hf = k.hf_name;
  if (!rope.has(hf)) return;
  switch (k.kind) {
    case Kind::number:
    case Kind::optional_number: {
      const double v = rope.number(hf);
      if (k.hf_zero_is_unset && v == 0.0) return;
      check_value(rope, hf, k, v);
      if (k.kind == Kind::number) {
        o.*k.number = v;
      } else {
        o.*k.optional_number = v;
      }
      break;
    }
    case Kind::integer:
      o.*k.integer = rope.integer(hf);
      check_value(rope, hf, k, static_cast<double>(o.*k.integer));
      break;
    case Kind::boolean:
      o.*k.boolean = rope.boolean(hf, o.*k.boolean);
      break;
    case Kind::number_list: {
      const auto& list = rope.raw(hf);
      if (!list.is_array()) rope.reject(hf, "expected a list of numbers");
      std::vector<double> values;
      for (const auto& v : list) {
        if (!v.is_number()) rope.reject(hf, "expected a list of numbers");
        values.push_back(v.get<double>());
        if (!k.check(values.back()).empty()) rope.reject(hf, "every value " + k.check(values.back()));
      }
      o.*k.number_list = values;
      break;
    }
  }
}

// The RoPE part of config.json without the ctxext_rope key: what a stock loader reads.
rope::RopeOptions read_hf_keys(const JsonFields& root, int64_t max_position_embeddings) {
  // transformers v5 lets a legacy rope_scaling override rope_parameters; the theta comes from the
  // chosen dict, else the top-level rope_theta, else the method's default (HF: 10000).
  const nlohmann::json empty = nlohmann::json::object();
  const std::string dict_key =
      root.has("rope_scaling") ? "rope_scaling" : root.has("rope_parameters") ? "rope_parameters" : "";
  const JsonFields rope = dict_key.empty() ? JsonFields(empty, root.origin()) : root.object(dict_key);
  const std::string type_key = rope.has("rope_type") ? "rope_type" : "type";
  const std::string hf_type = rope.string(type_key, "default");
  const rope::RopeMethod* method = rope::find_rope_method_reading_hf(hf_type);
  if (!method) {
    std::vector<std::string> known;
    for (const auto* m : rope::all_rope_methods())
      if (m->hf.reads) known.emplace_back(m->hf.reads);
    rope.reject(type_key, fmt::format("unknown RoPE type (ctxext reads: {})", fmt::join(known, ", ")));
  }
  for (const char* key : method->hf.required) rope.raw(key);  // "missing required key" naming it

  rope::RopeOptions o;
  o.type = method->name;
  const auto& theta_key = rope::find_rope_key("theta");
  if (root.has("rope_theta")) check_value(root, "rope_theta", theta_key, root.number("rope_theta"));
  const JsonFields& theta_source = rope.has("rope_theta") ? rope : root;
  o.*method->base = theta_source.number("rope_theta", o.*method->base);
  check_value(theta_source, "rope_theta", theta_key, o.*method->base);

  const auto& factor_key = rope::find_rope_key("factor");
  o.factor = rope.number(factor_key.hf_name, 1.0);
  check_value(rope, factor_key.hf_name, factor_key, o.factor);
  // A top-level original_max_position_embeddings wins, as in HF's standardisation; HF's dynamic
  // formula scales from max_position_embeddings, whatever else the file says.
  o.original_max_position_embeddings =
      method->hf.l0_is_max_position_embeddings ? max_position_embeddings
      : root.has("original_max_position_embeddings") ? read_context(root, max_position_embeddings)
                                                     : read_context(rope, max_position_embeddings);
  if (method->hf.factor_from_context && !rope.has(factor_key.hf_name))
    o.factor = static_cast<double>(max_position_embeddings) / static_cast<double>(o.original_max_position_embeddings);

  for (const auto& name : method->keys) {
    const auto& k = rope::find_rope_key(name);
    if (k.hf_name) read_key(rope, k, o);
  }
  for (const auto& name : method->keys) {
    const auto& k = rope::find_rope_key(name);
    if (!k.greater_than || !k.hf_name) continue;
    const auto& other = rope::find_rope_key(k.greater_than);
    if (!(o.*k.number > o.*other.number)) rope.reject(k.hf_name, fmt::format("must be greater than {}", k.greater_than));
  }

  std::vector<std::string> implied;
  for (const auto& d : method->hf.read_defaults) {
    const auto& k = rope::find_rope_key(d.key);
    if (k.kind == rope::RopeKey::Kind::integer) {
      o.*k.integer = static_cast<int64_t>(d.value);
    } else {
      o.*k.number = d.value;
    }
    implied.push_back(fmt::format("{} {} ({})", d.key, d.value, d.reason));
  }
  if (!implied.empty())
    log::info("{}: {}.{} \"{}\" read as ctxext {} with base {}, {}; override with rope.<key>", root.origin(), dict_key,
              type_key, hf_type, method->name, o.*method->base, fmt::join(implied, ", "));
  return o;
}

}  // namespace

rope::RopeOptions read_hf_rope(const JsonFields& root, int64_t max_position_embeddings, int64_t head_dim) {
  // The HF keys are checked even when ctxext's own block describes the method.
  const auto hf = read_hf_keys(root, max_position_embeddings);
  const auto o = root.has("ctxext_rope") ? parse_ctxext_rope_json(root.raw("ctxext_rope"), root.origin()) : hf;
  for (const auto& name : rope::find_rope_method(o.type).keys) {
    const auto& k = rope::find_rope_key(name);
    if (k.kind != rope::RopeKey::Kind::number_list) continue;
    const auto size = static_cast<int64_t>((o.*k.number_list).size());
    if (size != head_dim / 2)
      fail("{}: RoPE {} has {} values; {} needs head_dim/2 = {}, one per frequency", root.origin(), name, size, o.type,
           head_dim / 2);
  }
  return o;
}

std::string hf_rope_type(const rope::RopeOptions& rope) { return rope::find_rope_method(rope.type).hf.type; }

nlohmann::json hf_rope_parameters(const rope::RopeOptions& rope, int64_t head_dim) {
  if (rope.interleaved)
    fail("rope.interleaved = true (Meta's adjacent-pair layout) has no HF config equivalent: HF checkpoints rotate halves");
  const auto& method = rope::find_rope_method(rope.type);
  rope::compute_rope_frequencies(rope, head_dim, 1);  // fails on what the method cannot compute (list lengths)
  nlohmann::json p = {
      {"rope_type", method.hf.type},
      {"rope_theta", method.hf_theta(rope, head_dim)},
      {"factor", rope.factor},
      {"original_max_position_embeddings", rope.original_max_position_embeddings},
  };
  using Kind = rope::RopeKey::Kind;
  for (const auto& name : method.keys) {
    const auto& k = rope::find_rope_key(name);
    if (!k.hf_name) continue;
    switch (k.kind) {
      case Kind::number: p[k.hf_name] = rope.*k.number; break;
      case Kind::integer: p[k.hf_name] = rope.*k.integer; break;
      case Kind::boolean: p[k.hf_name] = rope.*k.boolean; break;
      case Kind::optional_number:
        if (rope.*k.optional_number) p[k.hf_name] = *(rope.*k.optional_number);
        break;
      case Kind::number_list: p[k.hf_name] = rope.*k.number_list; break;
    }
  }
  for (const auto& [key, value] : method.hf.fixed) p[key] = value;
  return p;
}

int64_t hf_max_position_embeddings(const rope::RopeOptions& rope) {
  return rope::find_rope_method(rope.type).hf.l0_is_max_position_embeddings ? rope.original_max_position_embeddings
                                                                       : rope.extended_context();
}

nlohmann::json ctxext_rope_json(const rope::RopeOptions& rope) {
  using Kind = rope::RopeKey::Kind;
  nlohmann::json j = {{"type", rope.type}};
  for (const auto& name : rope::find_rope_method(rope.type).all_keys()) {
    const auto& k = rope::find_rope_key(name);
    switch (k.kind) {
      case Kind::number: j[name] = rope.*k.number; break;
      case Kind::integer: j[name] = rope.*k.integer; break;
      case Kind::boolean: j[name] = rope.*k.boolean; break;
      case Kind::optional_number:
        if (rope.*k.optional_number) j[name] = *(rope.*k.optional_number);
        break;
      case Kind::number_list: j[name] = rope.*k.number_list; break;
    }
  }
  // eabf_context 0 means "the original context": written resolved, so the file says what is used.
  if (j.contains("eabf_context")) j["eabf_context"] = rope.query_scale_context();
  return j;
}

rope::RopeOptions parse_ctxext_rope_json(const nlohmann::json& value, const std::string& origin) {
  if (!value.is_object()) fail("{}: key 'ctxext_rope': expected a JSON object, got {}", origin, value.type_name());
  // JSON is YAML, so the `rope:` section parser (ranges, unknown keys) checks it.
  const auto config = Config::parse(value.dump(), origin + " key 'ctxext_rope'");
  return rope::parse_rope_options(config.root());
}

}  // namespace ctxext::model
