// Config tree: typed getters, overrides, and the one-line errors for bad keys and values.
#include <catch2/catch.hpp>

#include "core/config.h"

using ctxext::Config;
using ctxext::Error;
using Catch::Matchers::Contains;

TEST_CASE("config reads typed values and applies overrides", "[config]") {
  auto config = Config::parse("rope:\n  type: yarn\n  factor: 4\n", "x.yaml", {"rope.factor=8", "train.lr=2e-5"});
  auto rope = config.root().child("rope");
  CHECK(rope.get<std::string>("type", "none") == "yarn");
  CHECK(rope.get_number("factor", 1.0, 1.0, 1e6) == 8.0);
  CHECK(config.root().child("train").get<double>("lr", 0.0) == Approx(2e-5));
  CHECK(rope.get<int64_t>("missing", 7) == 7);
}

TEST_CASE("config names file:line of an unknown key", "[config]") {
  auto config = Config::parse("rope:\n  type: yarn\n  facter: 4\n", "x.yaml");
  auto rope = config.root().child("rope");
  rope.get<std::string>("type", "none");
  rope.get<double>("factor", 1.0);
  CHECK_THROWS_WITH(rope.check_no_unknown_keys(),
                    Contains("x.yaml:3") && Contains("unknown key 'rope.facter'") && Contains("factor"));
}

TEST_CASE("config rejects a value of the wrong type, naming key and value", "[config]") {
  auto config = Config::parse("rope:\n  factor: four\n", "x.yaml");
  CHECK_THROWS_WITH(config.root().child("rope").get<double>("factor", 1.0),
                    Contains("x.yaml:2") && Contains("rope.factor = 'four'") && Contains("expected a number"));
}

TEST_CASE("config rejects an out-of-range value and names the range", "[config]") {
  auto config = Config::parse("train:\n  lr: -1\n", "x.yaml");
  CHECK_THROWS_WITH(config.root().child("train").get_number("lr", 1e-5, 0.0, 1.0),
                    Contains("train.lr = -1") && Contains("between 0 and 1"));
}

TEST_CASE("config rejects a choice outside the allowed list", "[config]") {
  auto config = Config::parse("rope:\n  type: magic\n", "x.yaml");
  CHECK_THROWS_WITH(config.root().child("rope").get_choice("type", "none", {"none", "pi"}),
                    Contains("rope.type = magic") && Contains("one of: none, pi"));
}

TEST_CASE("an override names itself as the origin of a bad value", "[config]") {
  auto config = Config::parse("rope: {}\n", "x.yaml", {"rope.factor=-3"});
  CHECK_THROWS_WITH(config.root().child("rope").get_number("factor", 1.0, 1.0, 1e6),
                    Contains("override 'rope.factor=-3'"));
}

TEST_CASE("malformed overrides and YAML are rejected", "[config]") {
  CHECK_THROWS_WITH(Config::parse("a: 1\n", "x.yaml", {"noequals"}), Contains("expected key.path=value"));
  CHECK_THROWS_WITH(Config::parse("a: 1\n", "x.yaml", {"a.b=2"}), Contains("'a' is a value, not a mapping"));
  CHECK_THROWS_WITH(Config::parse("a: [1,\n", "bad.yaml"), Contains("bad.yaml:") && Contains("invalid YAML"));
  CHECK_THROWS_AS(Config::load("/nonexistent/c.yaml"), Error);
  CHECK_THROWS_WITH(Config::parse("rope: 3\n", "x.yaml").root().child("rope"), Contains("must be a mapping"));
}

TEST_CASE("a missing required key is named", "[config]") {
  auto config = Config::parse("model: {}\n", "x.yaml");
  CHECK_THROWS_WITH(config.root().child("model").require<std::string>("path"),
                    Contains("missing required key 'model.path'"));
}

TEST_CASE("a list of mappings is read like children, with indexed key paths", "[config]") {
  auto config = Config::parse("methods:\n  - {name: a}\n  - name: b\n    rope: {type: pi, factor: 4}\n", "x.yaml");
  const auto root = config.root();
  const auto methods = root.list("methods");
  REQUIRE(methods.size() == 2);
  CHECK(methods[0].get<std::string>("name", "") == "a");
  CHECK(methods[1].path() == "methods[1]");
  CHECK(methods[1].child("rope").keys() == std::vector<std::string>{"type", "factor"});
  CHECK(methods[1].child("rope").text("factor") == "4");
  CHECK(methods[1].get<std::string>("name", "") == "b");
  CHECK(config.read_values().at("methods[1].rope.factor") == "4");
  methods[0].check_no_unknown_keys();
  root.check_no_unknown_keys();  // `methods` was read through list()
  CHECK(root.list("missing").empty());

  auto bad = Config::parse("methods:\n  - {name: a, rank: 3}\n", "x.yaml");
  const auto entry = bad.root().list("methods")[0];
  entry.get<std::string>("name", "");
  CHECK_THROWS_WITH(entry.check_no_unknown_keys(), Contains("x.yaml:2") && Contains("unknown key 'methods[0].rank'"));
  CHECK_THROWS_WITH(Config::parse("methods: 3\n", "x.yaml").root().list("methods"),
                    Contains("x.yaml:1") && Contains("methods must be a list of mappings"));
  CHECK_THROWS_WITH(Config::parse("methods:\n  - 3\n", "x.yaml").root().list("methods"),
                    Contains("x.yaml:2") && Contains("methods[0] must be a mapping"));
  auto overridden = Config::parse("methods: [{name: a}]\n", "x.yaml", {"methods=[{name: 5x}]"});
  CHECK_THROWS_WITH(overridden.root().list("methods")[0].get<int64_t>("name", 0),
                    Contains("override 'methods=[{name: 5x}]'"));
}

TEST_CASE("a key given twice in one mapping names the file, the key and both lines", "[config]") {
  CHECK_THROWS_WITH(Config::parse("train:\n  lr: 1e-5\n  steps: 2\n  lr: 2e-5\n", "dup.yaml"),
                    Contains("dup.yaml:4") && Contains("'train.lr'") && Contains("given twice") &&
                        Contains("lines 2 and 4"));
  CHECK_THROWS_WITH(Config::parse("a: 1\nb: 2\na: 3\n", "dup.yaml"), Contains("'a'") && Contains("lines 1 and 3"));
  CHECK_THROWS_WITH(Config::parse("a: 1\n", "x.yaml", {"b={c: 1, c: 2}"}),
                    Contains("override 'b={c: 1, c: 2}'") && Contains("'b.c' given twice"));
  CHECK_NOTHROW(Config::parse("a: {b: 1}\nc: {b: 1}\n", "x.yaml"));  // the same name in two mappings is fine
}

TEST_CASE("NUL bytes and invalid UTF-8 in YAML keys and values are refused, naming the key", "[config]") {
  CHECK_THROWS_WITH(Config::parse("output_dir: \"runs/a\\0b\"\n", "x.yaml"),
                    Contains("x.yaml:1") && Contains("output_dir") && Contains("NUL"));
  CHECK_THROWS_WITH(Config::parse(std::string("data:\n  path: a\xff.jsonl\n"), "x.yaml"),
                    Contains("x.yaml:2") && Contains("data.path") && Contains("invalid UTF-8 at byte 1"));
  CHECK_THROWS_WITH(Config::parse(std::string("data:\n  p\xc3\x28th: a\n"), "x.yaml"),
                    Contains("x.yaml:2") && Contains("a key of data") && Contains("invalid UTF-8"));
  CHECK_THROWS_WITH(Config::parse("a: [ok, \"b\\0\"]\n", "x.yaml"), Contains("a[1]") && Contains("NUL"));
  CHECK_THROWS_WITH(Config::parse("a: 1\n", "x.yaml", {"output_dir=\"x\\0y\""}),
                    Contains("override 'output_dir=") && Contains("output_dir") && Contains("NUL"));
  CHECK_NOTHROW(Config::parse("system_prompt: \"Grüße, 日本\"\n", "x.yaml"));
}

TEST_CASE("deep YAML nesting is refused with the real reason", "[config]") {
  std::string deep = "a: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  CHECK_THROWS_WITH(Config::parse(deep + std::string(100, ']') + "\n", "deep.yaml"),
                    Contains("deep.yaml") && Contains("nested deeper than 64 levels"));
  // Past yaml-cpp's own guard, which reports only "bad file".
  std::string deeper(5000, '[');
  CHECK_THROWS_WITH(Config::parse("a: " + deeper + "\n", "deep.yaml"),
                    Contains("deep.yaml") && Contains("nested") && !Contains("bad file"));
  CHECK_NOTHROW(Config::parse("a: {b: {c: {d: [1, [2]]}}}\n", "x.yaml"));
}

TEST_CASE("a key must be a plain name", "[config]") {
  CHECK_THROWS_WITH(Config::parse("train:\n  [a, b]: 1\n", "x.yaml"),
                    Contains("x.yaml:2") && Contains("a key of train") && Contains("must be a plain name"));
}

TEST_CASE("aliases that expand exponentially are refused, not walked", "[config]") {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i)
    yaml += fmt::format("a{}: &a{} [*a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}, *a{}]\n", i, i, i - 1, i - 1,
                        i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  CHECK_THROWS_WITH(Config::parse(yaml, "laughs.yaml"), Contains("laughs.yaml") && Contains("more than 100000 values"));
}
