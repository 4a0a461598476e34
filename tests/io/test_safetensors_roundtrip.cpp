// write_safetensors -> read_safetensors for every dtype; the writer's bytes match the reference
// writer's own unit tests; output is deterministic; read tensors are views of the mapped file.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "io/safetensors.h"
#include "safetensors_test_util.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

std::map<std::string, torch::Tensor> every_dtype() {
  const auto base = torch::randn({3, 4}, torch::TensorOptions().dtype(torch::kFloat64)) * 3;
  const auto ints = torch::arange(-6, 6, torch::kInt64).reshape({3, 4});
  const auto naturals = ints + 6;
  return {
      {"f64", base},
      {"f32", base.to(torch::kFloat32)},
      {"f16", base.to(torch::kFloat16)},
      {"bf16", base.to(torch::kBFloat16)},
      {"f8_e4m3", base.to(torch::kFloat8_e4m3fn)},
      {"f8_e5m2", base.to(torch::kFloat8_e5m2)},
      {"i64", ints * int64_t(123456789012)},
      {"i32", (ints * 100000).to(torch::kInt32)},
      {"i16", (ints * 1000).to(torch::kInt16)},
      {"i8", ints.to(torch::kInt8)},
      {"u8", (naturals * 20).to(torch::kUInt8)},
      {"u16", naturals.to(at::kUInt16)},
      {"u32", naturals.to(at::kUInt32)},
      {"u64", naturals.to(at::kUInt64)},
      {"bool", ints.remainder(3).eq(0)},
      {"scalar", torch::tensor(2.5)},
      {"empty", torch::zeros({0, 4})},
  };
}

}  // namespace

TEST_CASE("every dtype round-trips with exact bytes, shapes and metadata", "[safetensors]") {
  TempDir dir;
  const auto tensors = every_dtype();
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode \"quoted\"\n"}};
  io::write_safetensors(dir / "all.safetensors", tensors, metadata);
  const auto content = io::read_safetensors(dir / "all.safetensors");
  CHECK(content.metadata == metadata);
  CHECK(listing(content.tensors, content.metadata) == listing(tensors, metadata));
  for (const auto& [name, t] : content.tensors) {
    INFO(name);
    CHECK(t.device().is_cpu());
    CHECK(t.is_contiguous());
    CHECK_FALSE(t.requires_grad());
  }
}

TEST_CASE("non-contiguous and grad-tracking inputs are written as their values", "[safetensors]") {
  TempDir dir;
  auto w = torch::arange(12, torch::kFloat32).reshape({3, 4}).requires_grad_(true);
  io::write_safetensors(dir / "a.safetensors", {{"t", w.t()}});
  io::write_safetensors(dir / "b.safetensors", {{"t", w.t().contiguous().detach()}});
  CHECK(read_text(dir / "a.safetensors") == read_text(dir / "b.safetensors"));
  CHECK(io::read_safetensors(dir / "a.safetensors").tensors.at("t").equal(w.t().detach()));
}

TEST_CASE("writer bytes equal the reference writer's own unit-test vectors", "[safetensors]") {
  // Expected bytes from huggingface/safetensors, safetensors/src/tensor.rs: test_serialization,
  // test_empty and test_serialization_forced_alignement.
  TempDir dir;
  const auto values = torch::arange(6, torch::kFloat32);
  io::write_safetensors(dir / "a.safetensors", {{"attn.0", values.reshape({1, 2, 3})}});
  CHECK(read_text(dir / "a.safetensors") ==
        le64(64) + R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" +
            std::string("\0\0\0\0\0\0\x80\x3f\0\0\0\x40\0\0\x40\x40\0\0\x80\x40\0\0\xa0\x40", 24));

  io::write_safetensors(dir / "b.safetensors", {{"attn0", values.reshape({1, 1, 2, 3})}});
  const std::string b = read_text(dir / "b.safetensors");
  CHECK(b.substr(0, 8) == le64(72));
  CHECK(b.substr(8, 72) == R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' '));

  io::write_safetensors(dir / "c.safetensors", {});
  CHECK(read_text(dir / "c.safetensors") == le64(8) + "{}      ");
  io::write_safetensors(dir / "d.safetensors", {}, {{"framework", "pt"}});
  CHECK(read_text(dir / "d.safetensors") == le64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
}

TEST_CASE("writing is deterministic and orders data like the reference (widest dtype first, then name)",
          "[safetensors]") {
  TempDir dir;
  const auto tensors = every_dtype();
  io::write_safetensors(dir / "a.safetensors", tensors, {{"format", "pt"}});
  io::write_safetensors(dir / "b.safetensors", tensors, {{"format", "pt"}});
  const std::string a = read_text(dir / "a.safetensors");
  CHECK(a == read_text(dir / "b.safetensors"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(a[i]);
  CHECK(n % 8 == 0);  // data section 8-byte aligned
  const auto header = a.substr(8, n);
  CHECK(header.find("\"u64\"") < header.find("\"i64\""));
  CHECK(header.find("\"i64\"") < header.find("\"f64\""));
  CHECK(header.find("\"f32\"") < header.find("\"scalar\""));  // same dtype: by name
  CHECK(header.find("\"f8_e4m3\"") < header.find("\"bool\""));
}

TEST_CASE("read tensors view the mapped file, outlive the content and are copy-on-write", "[safetensors]") {
  TempDir dir;
  const auto path = dir / "w.safetensors";
  io::write_safetensors(path, {{"w", torch::arange(4, torch::kFloat32)}});
  const std::string before = read_text(path);
  torch::Tensor w;
  {
    auto content = io::read_safetensors(path);
    w = content.tensors.at("w");
  }
  w.add_(10);  // private mapping: the file keeps its bytes
  CHECK(w.equal(torch::arange(10, 14, torch::kFloat32)));
  CHECK(read_text(path) == before);
  CHECK(io::read_safetensors(path).tensors.at("w").equal(torch::arange(4, torch::kFloat32)));
}

TEST_CASE("misaligned data from a foreign writer is read correctly (copied)", "[safetensors]") {
  // A U8 tensor of 1 byte then an F32: the F32's data sits at an odd address.
  TempDir dir;
  const float value = 1.5f;
  std::string data("\x07", 1);
  data.append(reinterpret_cast<const char*>(&value), 4);
  write_text(dir / "m.safetensors",
             safetensors_bytes(R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                               R"("f":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})",
                               data));
  const auto content = io::read_safetensors(dir / "m.safetensors");
  CHECK(content.tensors.at("f").item<float>() == 1.5f);
  CHECK(content.tensors.at("b").item<uint8_t>() == 7);
}

TEST_CASE("writer rejects what safetensors cannot store, leaving no file", "[safetensors]") {
  TempDir dir;
  const auto path = dir / "x.safetensors";
  CHECK_THROWS_WITH(io::write_safetensors(path, {{"c", torch::zeros({2}, torch::kComplexFloat)}}),
                    Contains(path.string()) && Contains("tensor 'c'") && Contains("cannot store"));
  CHECK_THROWS_WITH(io::write_safetensors(path, {{"__metadata__", torch::zeros({2})}}), Contains("reserved"));
  CHECK_THROWS_WITH(io::write_safetensors(path, {{"u", torch::Tensor()}}), Contains("tensor 'u' is undefined"));
  CHECK(fs::is_empty(dir.path()));
}
