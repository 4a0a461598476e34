// The RoPE registry: every method completely described (keys, frequencies, base, HF form), no key
// that no method reads, the docs table and the --help texts generated from it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "rope/rope_method.h"
#include "support/test_support.h"

using namespace ctxext;
using Catch::Matchers::Contains;

namespace {

const char* const kTableBegin = "<!-- methods table: rope_methods_markdown(), checked by tests/rope/test_rope_registry.cpp -->\n";
const char* const kTableEnd = "<!-- end of methods table -->";

}  // namespace

TEST_CASE("the registry lists every method and rejects an unknown one by name", "[rope][registry]") {
  CHECK(rope::rope_method_names() == std::vector<std::string>{"none", "pi", "ntk", "dynamic_ntk", "yarn", "llama3", "abf", "eabf",
                                                     "ntk_by_parts", "longrope"});
  CHECK_THROWS_WITH(rope::find_rope_method("rope2"), Contains("unknown RoPE method 'rope2'") && Contains("yarn"));
  rope::RopeOptions o;
  CHECK_THROWS_WITH(rope::compute_rope_frequencies(o, 7, 1), Contains("head_dim = 7"));
}

TEST_CASE("every method is completely described: keys, frequencies, base, HF form", "[rope][registry]") {
  std::set<std::string> reads;
  for (const auto* m : rope::all_rope_methods()) {
    INFO("method " << m->name);
    CHECK(std::string(m->description).size() > 10);
    CHECK(m->frequencies != nullptr);
    REQUIRE(m->hf.type != nullptr);
    for (const auto& key : m->all_keys()) CHECK_NOTHROW(rope::find_rope_key(key));
    // The base is one of the number keys the method reads.
    const auto keys = m->all_keys();
    bool base_is_key = false;
    for (const auto& key : keys) base_is_key |= rope::find_rope_key(key).number == m->base;
    CHECK(base_is_key);
    // Each HF type is read as one method only, and whatever a method writes can be read back.
    if (m->hf.reads) CHECK(reads.insert(m->hf.reads).second);
    CHECK(rope::find_rope_method_reading_hf(m->hf.type) != nullptr);
    for (const auto& d : m->hf.read_defaults) CHECK(std::find(keys.begin(), keys.end(), d.key) != keys.end());
  }
}

TEST_CASE("every rope key is read by some method: none accepted that does nothing", "[rope][registry]") {
  std::set<std::string> used(rope::rope_common_keys().begin(), rope::rope_common_keys().end());
  for (const auto* m : rope::all_rope_methods()) used.insert(m->keys.begin(), m->keys.end());
  for (const auto& k : rope::rope_option_keys()) {
    INFO("key " << k.name);
    CHECK(used.count(k.name) == 1);
    CHECK(std::string(k.help).size() > 5);
  }
}

TEST_CASE("docs/rope.md's methods table is the registry's", "[rope][registry][docs]") {
  const auto doc = testing::read_text("docs/rope.md");
  const auto begin = doc.find(kTableBegin);
  REQUIRE(begin != std::string::npos);
  const auto start = begin + std::string(kTableBegin).size();
  const auto end = doc.find(kTableEnd, start);
  REQUIRE(end != std::string::npos);
  INFO("expected table (paste into docs/rope.md):\n" << rope::rope_methods_markdown());
  CHECK(doc.substr(start, end - start) == rope::rope_methods_markdown());
}

TEST_CASE("the help of the RoPE flags names every method and key", "[rope][registry]") {
  for (const auto& name : rope::rope_method_names()) CHECK_THAT(rope::rope_methods_help(), Contains(name));
  for (const auto& k : rope::rope_option_keys()) CHECK_THAT(rope::rope_keys_help(), Contains(k.name));
  CHECK_THAT(rope::rope_keys_help(), Contains("factor (default 1)") && Contains("beta_fast (default 32)"));
}
