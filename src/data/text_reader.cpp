#include "data/text_reader.h"

#include "core/error.h"

namespace ctxext::data {

std::vector<TextDocument> read_text_documents(const std::string& path, bool skip_bad, ReadStats* stats) {
  std::vector<TextDocument> out;
  const ReadStats s = for_each_json_record(path, skip_bad, [&](const JsonRecord& r) {
    if (!r.value.is_object()) fail("{}: a record must be a JSON object, got {}", r.source, r.value.type_name());
    TextDocument doc{r.source, r.source, require_string(r.value, "text", r.source, "document")};
    if (const auto id = r.value.find("id"); id != r.value.end())
      doc.id = id->is_string() ? id->get<std::string>() : id->dump();
    out.push_back(std::move(doc));
  });
  if (stats) *stats = s;
  return out;
}

}  // namespace ctxext::data
