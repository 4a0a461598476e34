// A chat conversation as read from a ShareGPT file: an optional system turn, then user and
// assistant turns alternating, starting with the user (the readers enforce this order).
#pragma once
#include <string>
#include <vector>

namespace ctxext::data {

enum class Role { system, user, assistant };

struct Turn {
  Role role;
  std::string text;
};

struct Conversation {
  std::string id;
  std::string source;  // "file:line"
  std::vector<Turn> turns;
};

// A plain-text document (pretraining, perplexity).
struct TextDocument {
  std::string id;
  std::string source;  // "file:line"
  std::string text;
};

}  // namespace ctxext::data
