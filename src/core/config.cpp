#include "core/config.h"

#include <fmt/ranges.h>
#include <yaml-cpp/depthguard.h>

#include <map>
#include <sstream>

#include "core/text_file.h"
#include "core/utf8.h"

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

// "methods[2].name" -> "methods[2]" -> "methods" -> "".
std::string parent_path(const std::string& path) {
  if (!path.empty() && path.back() == ']') return path.substr(0, path.rfind('['));
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

// What yaml-cpp accepts silently, refused: a key given twice in one mapping (lookups see the first,
// PyYAML keeps the last), a key that is not a plain name, a NUL byte or invalid UTF-8 in a key or a
// string (a path with a NUL would be cut short by the OS), nesting deeper than kMaxConfigDepth.
// `origin`: where the tree came from, "<file>" or "override 'a=b'"; lines are shown for a file only.
class TreeCheck {
 public:
  TreeCheck(std::string origin, bool has_lines) : origin_(std::move(origin)), has_lines_(has_lines) {}

  void walk(const YAML::Node& node, const std::string& path, int depth) {
    // Aliases of aliases expand exponentially ("billion laughs"): bound the values visited.
    constexpr int64_t kMaxValues = 100000;
    if (++visited_ > kMaxValues)
      fail("{}: the config expands to more than {} values (aliases of aliases?); a config has a few hundred", origin_,
           kMaxValues);
    if (depth > kMaxConfigDepth)
      fail("{}: {} is nested deeper than {} levels (a config is a few levels deep)", at(node), path_name(path),
           kMaxConfigDepth);
    if (node.IsScalar()) return check_text(node, node.Scalar(), path_name(path));
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) walk(node[i], fmt::format("{}[{}]", path, i), depth + 1);
      return;
    }
    if (!node.IsMap()) return;
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      const std::string what = path.empty() ? "a top-level key" : "a key of " + path;
      if (!kv.first.IsScalar())
        fail("{}: {} is a {}: a key must be a plain name", at(kv.first), what,
             kv.first.IsSequence() ? "list" : kv.first.IsMap() ? "mapping" : "null");
      check_text(kv.first, kv.first.Scalar(), what);
      const std::string key = kv.first.Scalar();
      const std::string key_path = path.empty() ? key : path + "." + key;
      const auto [first, inserted] = seen.emplace(key, kv.first.Mark());
      if (!inserted)
        fail("{}: '{}' given twice{}: yaml-cpp would keep the first, PyYAML the last; keep one", at(kv.first),
             key_path,
             has_lines_ ? fmt::format(" (lines {} and {})", first->second.line + 1, kv.first.Mark().line + 1) : "");
      walk(kv.second, key_path, depth + 1);
    }
  }

 private:
  std::string at(const YAML::Node& node) const {
    return has_lines_ && node.Mark().line >= 0 ? fmt::format("{}:{}", origin_, node.Mark().line + 1) : origin_;
  }
  static std::string path_name(const std::string& path) {
    constexpr size_t kMax = 60;  // a deep path would fill the line
    return path.empty() ? "the document" : path.size() > kMax ? path.substr(0, kMax) + "..." : path;
  }
  void check_text(const YAML::Node& node, const std::string& text, const std::string& what) const {
    if (text.find('\0') != std::string::npos)
      fail("{}: {} holds a NUL byte (at byte {}): config text must not", at(node), what, text.find('\0'));
    const size_t bad = invalid_utf8_at(text);
    if (bad != std::string::npos) fail("{}: {} is not valid UTF-8 (invalid UTF-8 at byte {})", at(node), what, bad);
  }

  std::string origin_;
  bool has_lines_;
  int64_t visited_ = 0;
};
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
    p = parent_path(p);
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

std::vector<ConfigNode> ConfigNode::list(const std::string& key) const {
  mark_read(key);
  std::vector<ConfigNode> out;
  if (!has(key)) return out;
  const YAML::Node n = node_[key];
  if (!n.IsSequence())
    fail("{}: {} must be a list of mappings, got '{}'", where(key), key_path(key), scalar_text(n));
  for (size_t i = 0; i < n.size(); ++i) {
    ConfigNode item(n[i], fmt::format("{}[{}]", key_path(key), i), state_);
    if (!n[i].IsMap()) fail("{}: {} must be a mapping of keys, got '{}'", item.where(""), item.path(), scalar_text(n[i]));
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (node_.IsMap())
    for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

std::string ConfigNode::text(const std::string& key) const {
  if (!has(key)) fail("{}: missing required key '{}'", where(""), key_path(key));
  mark_read(key);
  YAML::Emitter out;
  out << YAML::Flow << node_[key];
  record_value(key, out.c_str());
  return out.c_str();
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
    const std::string key = kv.first.Scalar();
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
  } catch (const YAML::DeepRecursion& e) {  // its message is only "bad file"
    fail("{}: invalid YAML: nested {} levels deep, past yaml-cpp's limit (a config is a few levels deep; ctxext "
         "accepts {})", name, e.depth(), kMaxConfigDepth);
  } catch (const YAML::ParserException& e) {
    fail("{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.msg);
  }
  if (state->root.IsNull()) state->root = YAML::Node(YAML::NodeType::Map);
  if (!state->root.IsMap()) fail("{}: the top level must be a mapping of keys", name);
  TreeCheck(name, true).walk(state->root, "", 0);
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
  if (!is_valid_utf8(path)) fail("override '{}': the key is not valid UTF-8", assignment);
  TreeCheck(fmt::format("override '{}'", assignment), false).walk(value, path, static_cast<int>(parts.size()));
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
