// ShareGPT and text readers: both spellings, .json and .jsonl, every bad-data case named by
// file:line and reason, skip_bad counting.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "data/sharegpt_reader.h"
#include "data/text_reader.h"
#include "support/test_support.h"

using namespace ctxext::data;
using Catch::Matchers::Contains;
using ctxext::testing::TempDir;
using ctxext::testing::write_text;

TEST_CASE("ShareGPT .jsonl with from/value and role/content spellings", "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "chat.jsonl").string();
  write_text(path,
             R"({"id": "a", "conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]})"
             "\n\n"
             R"({"id": 7, "messages": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}]})"
             "\r\n"
             R"({"conversations": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "v"}]})"
             "\n");
  ReadStats stats;
  const auto convs = read_sharegpt(path, false, &stats);
  REQUIRE(convs.size() == 3);
  CHECK(stats.records == 3);
  CHECK(stats.skipped == 0);
  CHECK(convs[0].id == "a");
  CHECK(convs[0].source == path + ":1");
  REQUIRE(convs[0].turns.size() == 3);
  CHECK(convs[0].turns[0].role == Role::system);
  CHECK(convs[0].turns[1].role == Role::user);
  CHECK(convs[0].turns[2].role == Role::assistant);
  CHECK(convs[0].turns[2].text == "A");
  CHECK(convs[1].id == "7");
  CHECK(convs[1].source == path + ":3");
  CHECK(convs[1].turns.size() == 3);
  CHECK(convs[2].id == path + ":4");
  CHECK(convs[2].turns[0].role == Role::system);
}

TEST_CASE("ShareGPT .json array, with line numbers of each record", "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "chat.json").string();
  write_text(path, "[\n  {\"id\": \"x\", \"conversations\": [{\"from\": \"human\", \"value\": \"a, [b] {c}\"},\n"
                   "     {\"from\": \"gpt\", \"value\": \"esc \\\" ]\"}]},\n"
                   "  {\"id\": \"y\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"r\"}]}\n]\n");
  const auto convs = read_sharegpt(path, false);
  REQUIRE(convs.size() == 2);
  CHECK(convs[0].turns[0].text == "a, [b] {c}");
  CHECK(convs[0].turns[1].text == "esc \" ]");
  CHECK(convs[1].source == path + ":4");
  write_text(path, " [ ] ");
  CHECK(read_sharegpt(path, false).empty());
}

TEST_CASE("the real tiny_chat sample reads and alternates", "[data][reader]") {
  const auto convs = read_sharegpt("data/samples/tiny_chat.jsonl", false);
  CHECK(convs.size() == 12);
  for (const auto& c : convs) CHECK(c.turns.back().role == Role::assistant);
}

TEST_CASE("every bad ShareGPT record fails naming file:line and the reason", "[data][reader]") {
  struct Case {
    const char* record;
    const char* reason;
  };
  const Case cases[] = {
      {R"({"id": "a", "conversations": [{"from": "human", "value": "x"})", "malformed JSON"},
      {R"({"id": "a"})", "missing field 'conversations'"},
      {R"({"id": "a", "conversations": [{"from": "human"}]})", "missing field 'value'"},
      {R"({"id": "a", "conversations": [{"value": "x"}]})", "missing field 'from'"},
      {R"({"id": "a", "conversations": [{"role": "user", "value": "x"}]})", "missing field 'content'"},
      {R"({"id": "a", "conversations": [{"from": "human", "value": 3}]})", "field 'value' must be a string"},
      {R"({"id": "a", "conversations": [{"from": "bing", "value": "x"}]})", "unknown role 'bing'"},
      {R"({"id": "a", "conversations": [{"from": "gpt", "value": "x"}]})", "roles out of order: expected human, got gpt"},
      {R"({"id": "a", "conversations": [{"from": "human", "value": "x"}, {"from": "human", "value": "y"}]})",
       "roles out of order: expected gpt, got human"},
      {R"({"id": "a", "conversations": [{"from": "human", "value": "x"}, {"from": "system", "value": "y"}]})",
       "system turn is only allowed first"},
      {R"({"id": "a", "conversations": []})", "empty conversation"},
      {R"({"id": "a", "conversations": [{"from": "system", "value": "s"}]})", "empty conversation"},
      {R"({"id": "a", "conversations": "hello"})", "must be an array of turns"},
      {R"(["not", "an object"])", "must be a JSON object"},
      {"{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"bad \xC3\x28 byte\"}]}", "invalid UTF-8"},
      {"{\"id\": \"a\", \"conversations\": [{\"from\": \"human\", \"value\": \"surrogate \xED\xA0\x80\"}]}", "invalid UTF-8"},
  };
  TempDir dir;
  const auto path = (dir / "bad.jsonl").string();
  const std::string good = R"({"id": "g", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})";
  for (const auto& c : cases) {
    INFO(c.record);
    write_text(path, good + "\n" + good + "\n" + c.record + "\n" + good + "\n");
    CHECK_THROWS_WITH(read_sharegpt(path, false), Contains(path + ":3: ") && Contains(c.reason));
    ReadStats stats;
    const auto convs = read_sharegpt(path, true, &stats);
    CHECK(convs.size() == 3);
    CHECK(stats.records == 4);
    CHECK(stats.skipped == 1);
  }
}

TEST_CASE("a record nested 100,000 deep is refused at 128 levels, not a stack overflow", "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "deep.jsonl").string();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  write_text(path, R"({"id": "a", "conversations": )" + deep + "}\n");
  CHECK_THROWS_WITH(read_sharegpt(path, false), Contains(path + ":1: malformed JSON: nested deeper than 128 levels"));
  write_text(path, R"({"id": "a", "conversations": )" + std::string(127, '[') + std::string(127, ']') + "}\n");
  CHECK_THROWS_WITH(read_sharegpt(path, false), !Contains("nested deeper"));  // 128 levels: parsed, then rejected as data
}

TEST_CASE("bad records in a .json array are located and skippable", "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "bad.json").string();
  write_text(path, "[\n{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]},\n{\"conversations\": [{\"from\": \"x\", \"value\": \"q\"}]},\n"
                   "{\"conversations\" [1]}\n]");
  CHECK_THROWS_WITH(read_sharegpt(path, false), Contains(path + ":3: ") && Contains("unknown role 'x'"));
  ReadStats stats;
  CHECK(read_sharegpt(path, true, &stats).size() == 1);
  CHECK(stats.skipped == 2);
  // Structural damage cannot be skipped: the records cannot be delimited.
  write_text(path, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]}");
  CHECK_THROWS_WITH(read_sharegpt(path, true), Contains(path + ":1: ") && Contains("array is not closed"));
  write_text(path, "{\"conversations\": []}");
  CHECK_THROWS_WITH(read_sharegpt(path, true), Contains(path) && Contains("one JSON array"));
  write_text(path, "[]\n[]");
  CHECK_THROWS_WITH(read_sharegpt(path, true), Contains(path + ":2: ") && Contains("after the closing"));
}

TEST_CASE("unreadable files and wrong extensions name the file", "[data][reader]") {
  TempDir dir;
  const auto missing = (dir / "none.jsonl").string();
  CHECK_THROWS_WITH(read_sharegpt(missing, true), Contains(missing) && Contains("cannot open"));
  const auto txt = (dir / "x.txt").string();
  write_text(txt, "hello");
  CHECK_THROWS_WITH(read_text_documents(txt, false), Contains(txt) && Contains(".json or .jsonl"));
}

TEST_CASE("text .jsonl documents", "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "docs.jsonl").string();
  write_text(path, "{\"id\": \"d1\", \"text\": \"In the beginning\"}\n{\"text\": \"caf\\u00e9\\nline two\"}\n"
                   "{\"txt\": \"typo\"}\n{\"text\": null}\nnot json\n");
  CHECK_THROWS_WITH(read_text_documents(path, false), Contains(path + ":3: ") && Contains("missing field 'text'"));
  ReadStats stats;
  const auto docs = read_text_documents(path, true, &stats);
  REQUIRE(docs.size() == 2);
  CHECK(stats.skipped == 3);
  CHECK(docs[0].id == "d1");
  CHECK(docs[1].id == path + ":2");
  CHECK(docs[1].text == "caf\xC3\xA9\nline two");
}

TEST_CASE("the committed corpus reads as text documents", "[data][reader]") {
  const auto train = read_text_documents("data/corpus/kjv_train.jsonl", false);
  const auto heldout = read_text_documents("data/corpus/kjv_heldout.jsonl", false);
  CHECK(train.size() == 58);
  CHECK(heldout.size() == 8);
  CHECK(train.front().id == "Genesis");
  CHECK(train.front().text.rfind("In the beginning God created the heaven and the earth.\n", 0) == 0);
  CHECK(heldout.front().id == "Ruth");
}

TEST_CASE("a key repeated in a data record fails naming file, line and key (not 'empty conversation')",
          "[data][reader]") {
  TempDir dir;
  const auto path = (dir / "dup.jsonl").string();
  const std::string good = R"({"id": "g", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}]})";
  write_text(path, good + "\n" +
                       R"({"id": "d", "conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "A"}], "conversations": []})" +
                       "\n");
  try {
    read_sharegpt(path, false);
    FAIL("no error");
  } catch (const ctxext::Error& e) {
    CHECK_THAT(e.what(), Contains(path + ":2: duplicate key 'conversations'") && !Contains("empty conversation"));
  }
  // Inside a turn, and in a text record; the same key in two different objects is fine.
  write_text(path, R"({"conversations": [{"from": "human", "value": "Q", "value": "R"}, {"from": "gpt", "value": "A"}]})" "\n");
  CHECK_THROWS_WITH(read_sharegpt(path, false), Contains(path + ":1: duplicate key 'value'"));
  write_text(path, R"({"text": "a", "id": 1, "text": "b"})" "\n");
  CHECK_THROWS_WITH(read_text_documents(path, false), Contains(path + ":1: duplicate key 'text'"));
  write_text(path, good + "\n" + R"({"text": "a", "meta": {"text": "b", "id": {"text": "c"}}})" "\n");
  CHECK(read_text_documents(path, true).size() == 1);  // the ShareGPT record lacks 'text': skipped, not a duplicate
  // skip_bad skips a record with a duplicate key like any other bad record.
  const auto json_path = (dir / "dup.json").string();
  write_text(json_path, "[\n" + good + ",\n" R"({"id": "x", "id": "y", "conversations": []})" "\n]\n");
  CHECK_THROWS_WITH(read_sharegpt(json_path, false), Contains(json_path + ":3: duplicate key 'id'"));
  ReadStats stats;
  CHECK(read_sharegpt(json_path, true, &stats).size() == 1);
  CHECK(stats.skipped == 1);
}
