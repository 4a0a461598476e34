// ShareGPT conversations from `.json` (an array) or `.jsonl` (one per line):
//   {"id": ..., "conversations": [{"from": "system"|"human"|"gpt", "value": "..."}, ...]}
// or the same with {"role": "system"|"user"|"assistant", "content": "..."} turns ("messages" is
// accepted for "conversations"). Order: an optional system turn first, then human/gpt alternating,
// starting with human. A bad record fails naming file:line and the reason, or is skipped (skip_bad).
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "data/conversation.h"
#include "data/json_records.h"

namespace ctxext::data {

// Parses and validates one record; `source` ("file:line") prefixes every error.
Conversation parse_sharegpt_record(const nlohmann::json& record, const std::string& source);

std::vector<Conversation> read_sharegpt(const std::string& path, bool skip_bad, ReadStats* stats = nullptr);

}  // namespace ctxext::data
