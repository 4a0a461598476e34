#include "data/json_records.h"

#include <set>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/text_file.h"
#include "core/utf8.h"

namespace ctxext::data {
namespace {

constexpr int64_t kMaxWarnings = 10;  // skipped records named one by one; the rest only counted

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string without_tag(const std::string& what) {
  const auto close = what.find("] ");
  return (what.rfind("[json.exception", 0) == 0 && close != std::string::npos) ? what.substr(close + 2) : what;
}

struct Slice {
  size_t begin;
  size_t end;
  int64_t line;  // 1-based line of the first byte
};

// Delimits the elements of the top-level array in `text` without parsing them.
std::vector<Slice> split_array(const std::string& text, const std::string& path) {
  size_t i = 0;
  int64_t line = 1;
  auto skip_space = [&] {
    for (; i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'); ++i)
      if (text[i] == '\n') ++line;
  };
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;  // UTF-8 byte order mark
  skip_space();
  if (i >= text.size() || text[i] != '[')
    fail("{}:{}: a .json data file must hold one JSON array of records", path, line);
  ++i;
  std::vector<Slice> slices;
  skip_space();
  if (i < text.size() && text[i] == ']') {
    ++i;
  } else {
    for (;;) {
      skip_space();
      Slice slice{i, i, line};
      int depth = 0;
      bool in_string = false;
      for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') ++line;
        if (in_string) {
          if (c == '\\') ++i;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (depth == 0) break;
          --depth;
        } else if (c == ',' && depth == 0) {
          break;
        }
      }
      if (i >= text.size()) fail("{}:{}: malformed JSON: the array is not closed", path, slice.line);
      slice.end = i;
      slices.push_back(slice);
      if (text[i++] == ']') break;
      if (text[i - 1] == '}') fail("{}:{}: malformed JSON: unbalanced '}}'", path, line);
    }
  }
  skip_space();
  if (i != text.size()) fail("{}:{}: malformed JSON: text after the closing ']'", path, line);
  return slices;
}

// Refuses nesting deeper than 128 arrays/objects (as io/strict_json.h: a record nested 100,000 deep
// would overflow the stack when printed or freed) and a key repeated in one object (nlohmann keeps
// the last one silently; config.json and safetensors headers reject them too).
class RecordGuard {
 public:
  explicit RecordGuard(const std::string& source) : source_(source) {}

  bool operator()(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    constexpr int kMaxDepth = 128;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxDepth)
      fail("{}: malformed JSON: nested deeper than {} levels", source_, kMaxDepth);
    if (event == Event::object_start) open_objects_.emplace_back();
    if (event == Event::object_end) open_objects_.pop_back();
    if (event == Event::key && !open_objects_.back().insert(parsed.get<std::string>()).second)
      fail("{}: duplicate key '{}' in one JSON object (which one counts is not defined)", source_,
           parsed.get<std::string>().substr(0, 80));
    return true;
  }

 private:
  const std::string& source_;
  std::vector<std::set<std::string>> open_objects_;  // keys seen so far in each enclosing object
};

class RecordVisitor {
 public:
  RecordVisitor(const std::string& path, bool skip_bad, const std::function<void(const JsonRecord&)>& visit)
      : path_(path), skip_bad_(skip_bad), visit_(visit) {}

  void operator()(std::string_view text, int64_t line) {
    const std::string source = fmt::format("{}:{}", path_, line);
    ++stats_.records;
    try {
      const size_t bad = invalid_utf8_at(text);
      if (bad != std::string_view::npos) fail("{}: invalid UTF-8 at byte {} of the record", source, bad);
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(text.begin(), text.end(), RecordGuard(source));
      } catch (const nlohmann::json::parse_error& e) {
        fail("{}: malformed JSON: {}", source, without_tag(e.what()));
      }
      visit_(JsonRecord{value, source});
    } catch (const Error& e) {
      if (!skip_bad_) throw;
      if (stats_.skipped < kMaxWarnings) log::warn("skipping bad record: {}", e.what());
      ++stats_.skipped;
    }
  }

  ReadStats finish() const {
    if (stats_.skipped > 0)
      log::warn("{}: skipped {} bad record(s) of {} (data.skip_bad)", path_, stats_.skipped, stats_.records);
    return stats_;
  }

 private:
  const std::string& path_;
  bool skip_bad_;
  const std::function<void(const JsonRecord&)>& visit_;
  ReadStats stats_;
};

}  // namespace

ReadStats for_each_json_record(const std::string& path, bool skip_bad,
                               const std::function<void(const JsonRecord&)>& visit) {
  const bool jsonl = ends_with(path, ".jsonl");
  if (!jsonl && !ends_with(path, ".json")) fail("{}: data files must end in .json or .jsonl", path);
  const std::string text = read_text_file(path, "data file");
  RecordVisitor visitor(path, skip_bad, visit);
  if (jsonl) {
    int64_t line = 0;
    for (size_t begin = 0; begin < text.size();) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      ++line;
      std::string_view record(text.data() + begin, end - begin);
      if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
      if (record.find_first_not_of(" \t") != std::string_view::npos) visitor(record, line);
      begin = end + 1;
    }
  } else {
    for (const Slice& s : split_array(text, path))
      visitor(std::string_view(text.data() + s.begin, s.end - s.begin), s.line);
  }
  return visitor.finish();
}

const std::string& require_string(const nlohmann::json& object, const std::string& key,
                                  const std::string& source, const std::string& what) {
  const auto it = object.find(key);
  if (it == object.end()) fail("{}: {}: missing field '{}'", source, what, key);
  if (!it->is_string()) fail("{}: {}: field '{}' must be a string, got {}", source, what, key, it->type_name());
  return it->get_ref<const std::string&>();
}

}  // namespace ctxext::data
