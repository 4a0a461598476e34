// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) for
// untrusted text: JSON headers, data files, config values.
#pragma once
#include <cstddef>
#include <string_view>

namespace ctxext {

// Byte offset of the first invalid sequence in `text`, or std::string_view::npos.
size_t invalid_utf8_at(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return invalid_utf8_at(text) == std::string_view::npos; }

}  // namespace ctxext
