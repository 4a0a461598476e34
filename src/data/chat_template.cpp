#include "data/chat_template.h"

#include "core/error.h"

namespace ctxext::data {
namespace {

// Code points for which Python's str.isspace() is true.
bool is_python_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Decodes the code point starting at byte i (input already validated as UTF-8); sets its length.
uint32_t code_point_at(const std::string& s, size_t i, size_t* length) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *length = n;
  return cp;
}

}  // namespace

std::string python_strip(const std::string& text) {
  size_t begin = 0, end = text.size();
  size_t n;
  while (begin < end && is_python_space(code_point_at(text, begin, &n))) begin += n;
  while (end > begin) {
    size_t start = end - 1;  // walk back to the first byte of the last code point
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (!is_python_space(code_point_at(text, start, &n))) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

Sample encode_llama2_chat(const Tokenizer& tokenizer, const Conversation& conversation,
                          const std::optional<std::string>& default_system) {
  if (tokenizer.bos_id() < 0 || tokenizer.eos_id() < 0)
    fail("{}: the chat template needs a tokenizer with BOS and EOS ids", tokenizer.path());
  const auto& turns = conversation.turns;
  const bool has_system_turn = !turns.empty() && turns[0].role == Role::system;
  const std::optional<std::string> system = has_system_turn ? std::optional<std::string>(turns[0].text) : default_system;

  Sample sample;
  sample.source = conversation.source;
  auto push = [&](int64_t id, bool supervised) {
    sample.input_ids.push_back(id);
    sample.labels.push_back(supervised ? id : kIgnoreIndex);
  };
  bool first_user = true;
  for (size_t k = has_system_turn ? 1 : 0; k < turns.size(); k += 2) {
    // turns[k] is a user turn, turns[k + 1] (if any) its assistant answer (the reader checked the order).
    std::string content = turns[k].text;
    if (first_user && system) content = "<<SYS>>\n" + *system + "\n<</SYS>>\n\n" + content;
    first_user = false;
    std::string segment = "[INST] " + python_strip(content) + " [/INST]";
    const size_t answer_begin = segment.size();
    const bool answered = k + 1 < turns.size();
    if (answered) segment += " " + python_strip(turns[k + 1].text) + " ";

    push(tokenizer.bos_id(), false);
    for (const auto& piece : tokenizer.encode_pieces(segment)) push(piece.id, piece.begin >= answer_begin);
    if (answered) push(tokenizer.eos_id(), true);
  }
  return sample;
}

}  // namespace ctxext::data
