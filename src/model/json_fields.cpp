#include "model/json_fields.h"

#include "core/error.h"
#include "io/strict_json.h"

namespace ctxext::model {

JsonFields::JsonFields(const nlohmann::json& object, std::string origin, std::string prefix)
    : object_(&object), origin_(std::move(origin)), prefix_(std::move(prefix)) {
  if (!object.is_object())
    fail("{}: {}: expected a JSON object, got {}", origin_, prefix_.empty() ? "top level" : "key '" + prefix_ + "'",
         object.type_name());
}

std::string JsonFields::key_path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

bool JsonFields::has(const std::string& key) const {
  const auto it = object_->find(key);
  return it != object_->end() && !it->is_null();
}

const nlohmann::json& JsonFields::raw(const std::string& key) const { return require(key); }

const nlohmann::json& JsonFields::require(const std::string& key) const {
  if (!has(key)) fail("{}: missing required key '{}'", origin_, key_path(key));
  return object_->at(key);
}

void JsonFields::reject(const std::string& key, const std::string& reason) const {
  fail("{}: key '{}' = {}: {}", origin_, key_path(key), has(key) ? io::json_excerpt(object_->at(key)) : "null", reason);
}

void JsonFields::wrong_type(const std::string& key, const char* expected) const {
  const auto& value = object_->at(key);
  fail("{}: key '{}': expected {}, got {} {}", origin_, key_path(key), expected, value.type_name(), io::json_excerpt(value));
}

int64_t JsonFields::integer(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_number_integer()) wrong_type(key, "an integer");
  return v.get<int64_t>();
}

int64_t JsonFields::integer(const std::string& key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double JsonFields::number(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_number()) wrong_type(key, "a number");
  return v.get<double>();
}

double JsonFields::number(const std::string& key, double fallback) const { return has(key) ? number(key) : fallback; }

std::optional<double> JsonFields::optional_number(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return number(key);
}

bool JsonFields::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& v = object_->at(key);
  if (!v.is_boolean()) wrong_type(key, "a boolean");
  return v.get<bool>();
}

std::string JsonFields::string(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_string()) wrong_type(key, "a string");
  return v.get<std::string>();
}

std::string JsonFields::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

JsonFields JsonFields::object(const std::string& key) const {
  const auto& v = require(key);
  if (!v.is_object()) wrong_type(key, "a JSON object");
  return JsonFields(v, origin_, key_path(key));
}

}  // namespace ctxext::model
