// JSON parsing for untrusted headers and index files: UTF-8 checked, duplicate keys rejected
// (nlohmann would silently keep the last of two equal keys).
#pragma once
#include <nlohmann/json.hpp>

#include <string_view>

namespace ctxext {

bool is_valid_utf8(std::string_view text);

// Throws ctxext::Error "<what>: <reason>" for invalid JSON or a key repeated inside one object.
nlohmann::json parse_strict_json(std::string_view text, const std::string& what);

}  // namespace ctxext
