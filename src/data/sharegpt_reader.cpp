#include "data/sharegpt_reader.h"

#include "core/error.h"

namespace ctxext::data {
namespace {

Role parse_role(const std::string& name, const std::string& source, const std::string& what) {
  if (name == "system") return Role::system;
  if (name == "human" || name == "user") return Role::user;
  if (name == "gpt" || name == "assistant") return Role::assistant;
  fail("{}: {}: unknown role '{}' (expected system, human/user or gpt/assistant)", source, what, name);
}

const char* role_name(Role role) {
  switch (role) {
    case Role::system: return "system";
    case Role::user: return "human";
    case Role::assistant: return "gpt";
  }
  return "?";
}

Turn parse_turn(const nlohmann::json& turn, const std::string& source, const std::string& what) {
  if (!turn.is_object()) fail("{}: {}: a turn must be a JSON object, got {}", source, what, turn.type_name());
  // Either spelling, never a mix: the key that names the role decides which text key is read.
  const bool sharegpt = turn.contains("from");
  if (!sharegpt && !turn.contains("role"))
    fail("{}: {}: missing field 'from' (or 'role')", source, what);
  const std::string& role = require_string(turn, sharegpt ? "from" : "role", source, what);
  const std::string& text = require_string(turn, sharegpt ? "value" : "content", source, what);
  return Turn{parse_role(role, source, what), text};
}

std::string record_id(const nlohmann::json& record, const std::string& source) {
  const auto it = record.find("id");
  if (it == record.end()) return source;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  fail("{}: field 'id' must be a string or an integer, got {}", source, it->type_name());
}

}  // namespace

Conversation parse_sharegpt_record(const nlohmann::json& record, const std::string& source) {
  if (!record.is_object()) fail("{}: a record must be a JSON object, got {}", source, record.type_name());
  const char* key = record.contains("conversations") ? "conversations" : "messages";
  const auto it = record.find(key);
  if (it == record.end()) fail("{}: missing field 'conversations'", source);
  if (!it->is_array()) fail("{}: field '{}' must be an array of turns, got {}", source, key, it->type_name());

  Conversation conv{record_id(record, source), source, {}};
  if (it->empty()) fail("{}: conversation '{}': empty conversation", source, conv.id);
  for (size_t k = 0; k < it->size(); ++k) {
    const std::string what = fmt::format("conversation '{}', turn {}", conv.id, k + 1);
    Turn turn = parse_turn((*it)[k], source, what);
    // Position among the non-system turns: even = human, odd = gpt.
    const bool after_system = !conv.turns.empty() && conv.turns[0].role == Role::system;
    const size_t dialog_index = conv.turns.size() - (after_system ? 1 : 0);
    if (turn.role == Role::system) {
      if (k != 0) fail("{}: {}: roles out of order: a system turn is only allowed first", source, what);
    } else {
      const Role expected = dialog_index % 2 == 0 ? Role::user : Role::assistant;
      if (turn.role != expected)
        fail("{}: {}: roles out of order: expected {}, got {} (human and gpt alternate, starting with human)",
             source, what, role_name(expected), role_name(turn.role));
    }
    conv.turns.push_back(std::move(turn));
  }
  if (conv.turns.size() == 1 && conv.turns[0].role == Role::system)
    fail("{}: conversation '{}': empty conversation (only a system turn)", source, conv.id);
  return conv;
}

std::vector<Conversation> read_sharegpt(const std::string& path, bool skip_bad, ReadStats* stats) {
  std::vector<Conversation> out;
  const ReadStats s = for_each_json_record(path, skip_bad, [&](const JsonRecord& r) {
    out.push_back(parse_sharegpt_record(r.value, r.source));
  });
  if (stats) *stats = s;
  return out;
}

}  // namespace ctxext::data
