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
