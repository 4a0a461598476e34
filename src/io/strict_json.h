// JSON parsing for untrusted headers and index files: UTF-8 checked, duplicate keys rejected
// (nlohmann would silently keep the last of two equal keys), nesting bounded (printing or freeing a
// value nested 100,000 deep recurses until the stack overflows), values in messages cut short.
#pragma once
#include <nlohmann/json.hpp>

#include <string_view>

#include "core/utf8.h"

namespace ctxext::io {

// Deepest nesting of arrays and objects accepted (the reference safetensors reader stops at 128).
inline constexpr int kMaxJsonDepth = 128;

// Throws ctxext::Error "<what>: <reason>" for invalid JSON, nesting deeper than kMaxJsonDepth or a
// key repeated inside one object.
nlohmann::json parse_strict_json(std::string_view text, const std::string& what);

// A value as JSON text for an error message, cut to at most max_chars ("..." marks the cut).
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

}  // namespace ctxext::io
