// The token stream perplexity is measured on: text documents (`.jsonl` of {"text"}), each encoded
// as BOS + text + EOS (as pretraining saw them) and concatenated in file order, so documents
// shorter than the longest window still yield long-context windows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace ctxext::eval {

// The first `max_tokens` tokens (0 = all) of the concatenated documents. Fails naming `path`
// for a missing file, a bad record, no documents, or a document with empty text.
std::vector<int64_t> load_document_tokens(const std::string& path, const data::Tokenizer& tokenizer,
                                          int64_t max_tokens);

}  // namespace ctxext::eval
