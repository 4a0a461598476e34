// Plain-text documents for pretraining and perplexity: `.jsonl` lines (or a `.json` array) of
// {"text": "...", "id": optional}. A bad record fails naming file:line and the reason, or is
// skipped (skip_bad).
#pragma once
#include <string>
#include <vector>

#include "data/conversation.h"
#include "data/json_records.h"

namespace ctxext::data {

std::vector<TextDocument> read_text_documents(const std::string& path, bool skip_bad, ReadStats* stats = nullptr);

}  // namespace ctxext::data
