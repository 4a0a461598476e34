#include "io/strict_json.h"

#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace ctxext::io {

nlohmann::json parse_strict_json(std::string_view text, const std::string& what) {
  using nlohmann::json;
  std::vector<std::set<std::string>> open_objects;  // keys seen so far in each enclosing object
  json::parser_callback_t check_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth)
      fail("{}: invalid JSON: nested deeper than {} levels", what, kMaxJsonDepth);
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) fail("{}: duplicate key '{}' in one JSON object", what, key);
    }
    return true;
  };
  // nlohmann stops at a NUL byte as if the input ended there; JSON never contains a raw one.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos)
    fail("{}: invalid JSON: NUL byte at offset {}", what, nul);
  try {
    return json::parse(text.begin(), text.end(), check_keys);
  } catch (const json::exception& e) {
    fail("{}: invalid JSON: {}", what, e.what());
  }
}

std::string json_excerpt(const nlohmann::json& value, size_t max_chars) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

}  // namespace ctxext::io
