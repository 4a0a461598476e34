// Config tree: a YAML file plus `a.b.c=value` overrides, read through typed, validated getters.
//
// Every key read through a ConfigNode is remembered; `check_no_unknown_keys()` then names each key
// nobody asked for, with its file:line, so a typo never silently falls back to a default.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace ctxext {

struct ConfigState;  // shared by all nodes of one Config: file name, override origins, keys read

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string path, std::shared_ptr<ConfigState> state);

  bool has(const std::string& key) const;
  // A mapping below this one; a missing key gives an empty mapping (all defaults).
  ConfigNode child(const std::string& key) const;
  // The mappings of a list below this one (`methods: [{name: a, ...}, ...]`), each read like a child
  // with the path "methods[i]"; a missing key gives an empty list.
  std::vector<ConfigNode> list(const std::string& key) const;
  // This mapping's keys, in file order.
  std::vector<std::string> keys() const;
  // A value as YAML text (flow style for lists and mappings), e.g. to pass it on as an override.
  std::string text(const std::string& key) const;

  template <typename T>
  T get(const std::string& key, const T& fallback) const {
    T value = has(key) ? convert<T>(key) : (mark_read(key), fallback);
    record_value(key, fmt::format("{}", value));
    return value;
  }
  template <typename T>
  std::optional<T> get_optional(const std::string& key) const {
    if (!has(key)) return (mark_read(key), record_value(key, "(unset)"), std::nullopt);
    T value = convert<T>(key);
    record_value(key, fmt::format("{}", value));
    return value;
  }
  template <typename T>
  T require(const std::string& key) const {
    if (!has(key)) fail("{}: missing required key '{}'", where(""), key_path(key));
    T value = convert<T>(key);
    record_value(key, fmt::format("{}", value));
    return value;
  }

  // Typed getters with the allowed range named in the error.
  double get_number(const std::string& key, double fallback, double min, double max) const;
  int64_t get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) const;
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;

  // Error for a value that parsed but is not allowed: "<file:line>: <key> = <value>: <reason>".
  [[noreturn]] void reject(const std::string& key, const std::string& reason) const;

  // Fails on the first key of this mapping that no getter asked for.
  void check_no_unknown_keys() const;

  std::string key_path(const std::string& key) const;  // "rope.factor"
  std::string where(const std::string& key) const;     // "configs/x.yaml:12" or "override 'a=b'"
  const std::string& path() const { return path_; }
  YAML::Node yaml() const { return node_; }

 private:
  template <typename T>
  T convert(const std::string& key) const {
    mark_read(key);
    try {
      return node_[key].template as<T>();
    } catch (const YAML::Exception&) {
      type_error(key, type_name<T>());
    }
  }
  template <typename T>
  static const char* type_name();
  [[noreturn]] void type_error(const std::string& key, const char* expected) const;
  void mark_read(const std::string& key) const;
  void record_value(const std::string& key, std::string text) const;

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<ConfigState> state_;
};

// Parsing refuses, with one line naming the file, key and line: invalid YAML, nesting deeper than
// kMaxConfigDepth, a key given twice in one mapping (yaml-cpp would keep the first silently, PyYAML
// the last), and a key or string value holding a NUL byte or invalid UTF-8.
constexpr int kMaxConfigDepth = 64;

class Config {
 public:
  // Parses `file` and applies `overrides` ("a.b.c=value", value parsed as YAML).
  static Config load(const std::string& file, const std::vector<std::string>& overrides = {});
  // The same from YAML text; `name` stands for the file in messages.
  static Config parse(const std::string& yaml_text, const std::string& name,
                      const std::vector<std::string>& overrides = {});

  ConfigNode root() const;
  std::string to_yaml() const;  // the resolved tree, overrides applied
  // Key path -> effective value, as fmt prints the typed value ("2e-05", "true", "[1, 2]", "(unset)"), of
  // every key a getter has read so far, defaults included: two configs that mean the same compare equal.
  std::map<std::string, std::string> read_values() const;
  const std::string& source_name() const;

 private:
  explicit Config(std::shared_ptr<ConfigState> state);
  void apply_override(const std::string& assignment);
  std::shared_ptr<ConfigState> state_;
};

template <> inline const char* ConfigNode::type_name<bool>() { return "a boolean"; }
template <> inline const char* ConfigNode::type_name<int>() { return "an integer"; }
template <> inline const char* ConfigNode::type_name<int64_t>() { return "an integer"; }
template <> inline const char* ConfigNode::type_name<double>() { return "a number"; }
template <> inline const char* ConfigNode::type_name<std::string>() { return "a string"; }
template <> inline const char* ConfigNode::type_name<std::vector<int64_t>>() { return "a list of integers"; }
template <> inline const char* ConfigNode::type_name<std::vector<double>>() { return "a list of numbers"; }
template <> inline const char* ConfigNode::type_name<std::vector<std::string>>() { return "a list of strings"; }

}  // namespace ctxext
