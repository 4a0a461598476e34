#include "core/config.h"

#include <fmt/ranges.h>

#include <map>
#include <sstream>

#include "core/text_file.h"

namespace ctxext {

struct ConfigState {
  std::string file;                              // shown in messages
  YAML::Node root;
  std::map<std::string, std::string> overrides;  // key path -> "override 'a.b=c'"
  std::set<std::string> read_keys;               // full key paths asked for by a getter
  std::map<std::string, std::string> values;     // key path -> effective value text (read_values())
};

namespace {
std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string scalar_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}
}  // namespace

ConfigNode::ConfigNode(YAML::Node node, std::string path, std::shared_ptr<ConfigState> state)
    : node_(std::move(node)), path_(std::move(path)), state_(std::move(state)) {}

bool ConfigNode::has(const std::string& key) const {
  return node_.IsMap() && node_[key] && !node_[key].IsNull();
}

void ConfigNode::mark_read(const std::string& key) const { state_->read_keys.insert(key_path(key)); }

void ConfigNode::record_value(const std::string& key, std::string text) const {
  state_->values[key_path(key)] = std::move(text);
}

std::string ConfigNode::key_path(const std::string& key) const { return join_path(path_, key); }

std::string ConfigNode::where(const std::string& key) const {
  // An override on this key or on any mapping above it explains the value.
  for (std::string p = key_path(key); !p.empty();) {
    auto it = state_->overrides.find(p);
    if (it != state_->overrides.end()) return it->second;
    auto dot = p.rfind('.');
    p = dot == std::string::npos ? "" : p.substr(0, dot);
  }
  YAML::Node n = (!key.empty() && node_.IsMap() && node_[key]) ? node_[key] : node_;
  const YAML::Mark mark = n.Mark();
  if (mark.line < 0) return state_->file;
  return fmt::format("{}:{}", state_->file, mark.line + 1);
}

ConfigNode ConfigNode::child(const std::string& key) const {
  mark_read(key);
  if (!has(key)) return ConfigNode(YAML::Node(YAML::NodeType::Map), key_path(key), state_);
  YAML::Node n = node_[key];
  if (!n.IsMap()) fail("{}: {} must be a mapping of keys, got '{}'", where(key), key_path(key), scalar_text(n));
  return ConfigNode(n, key_path(key), state_);
}

void ConfigNode::type_error(const std::string& key, const char* expected) const {
  fail("{}: {} = '{}': expected {}", where(key), key_path(key), scalar_text(node_[key]), expected);
}

void ConfigNode::reject(const std::string& key, const std::string& reason) const {
  const std::string value = has(key) ? scalar_text(node_[key]) : "(default)";
  fail("{}: {} = {}: {}", where(key), key_path(key), value, reason);
}

double ConfigNode::get_number(const std::string& key, double fallback, double min, double max) const {
  const double v = get<double>(key, fallback);
  if (!(v >= min && v <= max)) reject(key, fmt::format("must be between {} and {}", min, max));
  return v;
}

int64_t ConfigNode::get_int(const std::string& key, int64_t fallback, int64_t min, int64_t max) const {
  const int64_t v = get<int64_t>(key, fallback);
  if (v < min || v > max) reject(key, fmt::format("must be an integer between {} and {}", min, max));
  return v;
}

std::string ConfigNode::get_choice(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) const {
  const std::string v = get<std::string>(key, fallback);
  for (const auto& a : allowed)
    if (a == v) return v;
  reject(key, fmt::format("must be one of: {}", fmt::join(allowed, ", ")));
}

void ConfigNode::check_no_unknown_keys() const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.as<std::string>();
    if (!state_->read_keys.count(key_path(key))) {
      std::vector<std::string> known;
      for (const auto& k : state_->read_keys) {
        const std::string prefix = path_.empty() ? "" : path_ + ".";
        if (k.rfind(prefix, 0) == 0 && k.find('.', prefix.size()) == std::string::npos)
          known.push_back(k.substr(prefix.size()));
      }
      fail("{}: unknown key '{}' (known here: {})", where(key), key_path(key), fmt::join(known, ", "));
    }
  }
}

Config::Config(std::shared_ptr<ConfigState> state) : state_(std::move(state)) {}

Config Config::load(const std::string& file, const std::vector<std::string>& overrides) {
  return parse(read_text_file(file, "config file"), file, overrides);
}

Config Config::parse(const std::string& yaml_text, const std::string& name,
                     const std::vector<std::string>& overrides) {
  auto state = std::make_shared<ConfigState>();
  state->file = name;
  try {
    state->root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    fail("{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.msg);
  }
  if (state->root.IsNull()) state->root = YAML::Node(YAML::NodeType::Map);
  if (!state->root.IsMap()) fail("{}: the top level must be a mapping of keys", name);
  Config config(state);
  for (const auto& o : overrides) config.apply_override(o);
  return config;
}

void Config::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    fail("override '{}': expected key.path=value", assignment);
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    fail("override '{}': invalid YAML value: {}", assignment, e.msg);
  }
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) fail("override '{}': empty key in '{}'", assignment, path);
    parts.push_back(part);
  }
  // yaml-cpp nodes are handles: walk down by reassigning a handle to each child mapping.
  YAML::Node cursor = state_->root;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked = join_path(walked, parts[i]);
    YAML::Node next = cursor[parts[i]];
    if (!next || next.IsNull()) next = YAML::Node(YAML::NodeType::Map);
    if (!next.IsMap()) fail("override '{}': '{}' is a value, not a mapping", assignment, walked);
    cursor[parts[i]] = next;
    cursor.reset(next);
  }
  cursor[parts.back()] = value;
  state_->overrides[path] = fmt::format("override '{}'", assignment);
}

ConfigNode Config::root() const { return ConfigNode(state_->root, "", state_); }

std::string Config::to_yaml() const {
  YAML::Emitter out;
  out << state_->root;
  return out.c_str();
}

std::map<std::string, std::string> Config::read_values() const { return state_->values; }

const std::string& Config::source_name() const { return state_->file; }

}  // namespace ctxext
