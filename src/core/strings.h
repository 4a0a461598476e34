// Small string predicates the standard library gains only in C++20.
#pragma once
#include <string_view>

namespace ctxext {

inline bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace ctxext
