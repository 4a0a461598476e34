// JSON records from a `.jsonl` file (one per line) or a `.json` file (the elements of a top-level
// array), each tagged with its "file:line". A bad record (malformed JSON, invalid UTF-8, or a
// ctxext::Error thrown by the visitor) fails the read naming file:line and the reason, or, with
// skip_bad, is logged with ctxext::log::warn and counted.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace ctxext::data {

struct JsonRecord {
  const nlohmann::json& value;
  const std::string& source;  // "file:line"
};

struct ReadStats {
  int64_t records = 0;  // records seen, good and bad
  int64_t skipped = 0;  // bad records skipped (skip_bad)
};

// Calls `visit` on every record of `path`, in file order. Blank `.jsonl` lines are ignored.
// A `.json` file whose array structure is broken (the elements cannot be delimited) always fails.
ReadStats for_each_json_record(const std::string& path, bool skip_bad,
                               const std::function<void(const JsonRecord&)>& visit);

// The string field `key` of an object record; fails "<source>: <what>: missing field 'key'" or
// "... field 'key' must be a string".
const std::string& require_string(const nlohmann::json& object, const std::string& key,
                                  const std::string& source, const std::string& what);

}  // namespace ctxext::data
