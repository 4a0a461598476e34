#include "eval/eval_documents.h"

#include <filesystem>

#include "core/error.h"
#include "data/dataset.h"
#include "data/text_reader.h"

namespace ctxext::eval {

std::vector<int64_t> load_document_tokens(const std::string& path, const data::Tokenizer& tokenizer,
                                          int64_t max_tokens) {
  if (!std::filesystem::is_regular_file(path)) fail("{}: no such file", path);
  const auto documents = data::read_text_documents(path, /*skip_bad=*/false);
  if (documents.empty()) fail("{}: no documents", path);
  std::vector<int64_t> tokens;
  for (const auto& document : documents) {
    if (document.text.find_first_not_of(" \t\r\n") == std::string::npos)
      fail("{}: document '{}' has empty text", document.source, document.id);
    const auto sample = data::encode_text_document(tokenizer, document);
    tokens.insert(tokens.end(), sample.input_ids.begin(), sample.input_ids.end());
    if (max_tokens > 0 && static_cast<int64_t>(tokens.size()) >= max_tokens) {
      tokens.resize(static_cast<size_t>(max_tokens));
      break;
    }
  }
  return tokens;
}

}  // namespace ctxext::eval
