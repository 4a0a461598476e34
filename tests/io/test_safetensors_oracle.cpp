// Interop with the reference implementation (Python `safetensors` 0.8, Rust core), run from the
// project venv by tests/oracle/safetensors_check.py.
#include <catch2/catch.hpp>

#include "io/safetensors.h"
#include "safetensors_test_util.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;

TEST_CASE("a file written by the reference save_file is read with equal values, and rewritten byte for byte",
          "[safetensors][oracle]") {
  TempDir dir;
  const auto reference = dir / "reference.safetensors";
  const std::string expected = run_oracle("safetensors_check.py", {"save", reference.string()});
  const auto content = io::read_safetensors(reference);
  CHECK(listing(content.tensors, content.metadata) == expected);

  // One metadata key, so the reference's arbitrary HashMap order cannot differ from ours.
  io::write_safetensors(dir / "ours.safetensors", content.tensors, content.metadata);
  CHECK(read_text(dir / "ours.safetensors") == read_text(reference));
}

TEST_CASE("a file written by us is loaded by the reference load_file with equal values", "[safetensors][oracle]") {
  TempDir dir;
  const auto path = dir / "ours.safetensors";
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"ctxext", "1"}};
  const auto base = torch::linspace(-3, 3, 24, torch::kFloat64).reshape({2, 3, 4});
  const std::map<std::string, torch::Tensor> tensors{
      {"model.embed_tokens.weight", base.to(torch::kBFloat16)},
      {"model.norm.weight", base.to(torch::kFloat32).select(2, 1)},
      {"half", base.to(torch::kFloat16).permute({2, 0, 1})},
      {"f64", base},
      {"f8", base.to(torch::kFloat8_e4m3fn)},
      {"ids", torch::arange(-5, 5, torch::kInt64) * (int64_t(1) << 40)},
      {"i32", torch::arange(-5, 5, torch::kInt32)},
      {"i16", torch::arange(-5, 5, torch::kInt16)},
      {"i8", torch::arange(-5, 5, torch::kInt8)},
      {"u8", torch::arange(0, 250, 25, torch::kUInt8)},
      {"mask", torch::arange(10).remainder(2).eq(0)},
      {"scalar", torch::tensor(-1.25f)},
      {"empty", torch::zeros({4, 0}, torch::kBFloat16)},
  };
  io::write_safetensors(path, tensors, metadata);
  CHECK(run_oracle("safetensors_check.py", {"list", path.string()}) == listing(tensors, metadata));
}
