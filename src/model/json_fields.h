// Typed reads of one JSON object (an HF config.json or a part of it). Every error names the file,
// the key path and the reason: "config.json: key 'rope_parameters.factor': expected a number, got string".
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace ctxext::model {

class JsonFields {
 public:
  // object must be a JSON object; prefix is the key path of object inside the file ("" for the root).
  JsonFields(const nlohmann::json& object, std::string origin, std::string prefix = "");

  // Present and not null (HF writes null for "unset").
  bool has(const std::string& key) const;
  const nlohmann::json& raw(const std::string& key) const;

  int64_t integer(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  double number(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  std::optional<double> optional_number(const std::string& key) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  JsonFields object(const std::string& key) const;

  std::string key_path(const std::string& key) const;
  const std::string& origin() const { return origin_; }
  [[noreturn]] void reject(const std::string& key, const std::string& reason) const;

 private:
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;
  const nlohmann::json& require(const std::string& key) const;

  const nlohmann::json* object_;
  std::string origin_;
  std::string prefix_;
};

}  // namespace ctxext::model
