// read_safetensors rejects every malformed file the reference reader rejects (huggingface/safetensors,
// safetensors/src/tensor.rs: read_metadata + Metadata::validate), plus duplicate names and a
// non-string __metadata__. Each file is crafted by hand; each message names the file and the reason.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "io/safetensors.h"
#include "safetensors_test_util.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// Writes `bytes` to <tmp>/bad.safetensors and returns the path.
struct BadFile {
  TempDir dir;
  fs::path path = dir / "bad.safetensors";
  explicit BadFile(const std::string& bytes) { write_text(path, bytes); }
};

// One F32 [2] tensor "a" with the given offsets, and `data_bytes` zero bytes of data.
std::string one_f32(const std::string& offsets, size_t data_bytes) {
  return safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":)" + offsets + "}}", std::string(data_bytes, '\0'));
}

}  // namespace

TEST_CASE("a well-formed hand-made file is accepted (control for the rejections below)", "[safetensors]") {
  BadFile f(one_f32("[0,8]", 8));
  CHECK(io::read_safetensors(f.path).tensors.at("a").sizes() == torch::IntArrayRef{2});
}

TEST_CASE("missing file is rejected", "[safetensors]") {
  TempDir dir;
  CHECK_THROWS_WITH(io::read_safetensors(dir / "nope.safetensors"), Contains("nope.safetensors: cannot open"));
}

TEST_CASE("file shorter than 8 bytes is rejected", "[safetensors]") {
  BadFile f("abc");
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("shorter than the 8-byte header"));
  BadFile empty("");
  CHECK_THROWS_WITH(io::read_safetensors(empty.path), Contains("0 bytes, shorter than"));
}

TEST_CASE("header length above 100,000,000 is rejected", "[safetensors]") {
  BadFile f(le64(100'000'001) + "{}");
  CHECK_THROWS_WITH(io::read_safetensors(f.path),
                    Contains(f.path.string()) && Contains("header length 100000001 exceeds the limit"));
}

TEST_CASE("header running past the end of the file is rejected", "[safetensors]") {
  BadFile f(le64(64) + "{}");
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("runs past the end of the file"));
  BadFile huge(le64(~uint64_t(0)) + "{}");  // 8 + N must not wrap around
  CHECK_THROWS_WITH(io::read_safetensors(huge.path), Contains("exceeds the limit"));
}

TEST_CASE("header that is not UTF-8 is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes("{\"\xC0\xAF\":1}", ""));  // overlong encoding of '/'
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("header is not valid UTF-8"));
  BadFile surrogate(safetensors_bytes("{\"\xED\xA0\x80\":1}", ""));
  CHECK_THROWS_WITH(io::read_safetensors(surrogate.path), Contains("not valid UTF-8"));
}

TEST_CASE("header that is not JSON is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes("{\"a\":", ""));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("invalid JSON"));
  BadFile nul_padded(safetensors_bytes(std::string("{}\0\0", 4), ""));  // the reference pads with spaces only
  CHECK_THROWS_WITH(io::read_safetensors(nul_padded.path), Contains("invalid JSON"));
}

TEST_CASE("header that is not a JSON object is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes("[1, 2]  ", ""));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("header is not a JSON object"));
}

TEST_CASE("tensor entry without dtype, shape or data_offsets is rejected", "[safetensors]") {
  BadFile no_dtype(safetensors_bytes(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(no_dtype.path),
                    Contains(no_dtype.path.string()) && Contains("tensor 'w'") && Contains("missing 'dtype'"));
  BadFile no_shape(safetensors_bytes(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(no_shape.path), Contains("tensor 'w'") && Contains("missing 'shape'"));
  BadFile no_offsets(safetensors_bytes(R"({"w":{"dtype":"F32","shape":[1]}})", std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(no_offsets.path), Contains("tensor 'w'") && Contains("missing 'data_offsets'"));
  BadFile not_object(safetensors_bytes(R"({"w":[1,2]})", ""));
  CHECK_THROWS_WITH(io::read_safetensors(not_object.path), Contains("tensor 'w'") && Contains("not a JSON object"));
}

TEST_CASE("tensor entry fields of the wrong type are rejected", "[safetensors]") {
  const auto reject = [](const std::string& entry, const std::string& reason) {
    BadFile f(safetensors_bytes(R"({"w":)" + entry + "}", std::string(4, '\0')));
    CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("tensor 'w'") && Contains(reason));
  };
  reject(R"({"dtype":7,"shape":[1],"data_offsets":[0,4]})", "'dtype' is not a string");
  reject(R"({"dtype":"F32","shape":"1","data_offsets":[0,4]})", "'shape' is not a list");
  reject(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", "'shape' holds -1, not a non-negative integer");
  reject(R"({"dtype":"F32","shape":[1.0],"data_offsets":[0,4]})", "'shape' holds 1.0");
  reject(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})", "'data_offsets' is [0], not [begin, end]");
  reject(R"({"dtype":"F32","shape":[1],"data_offsets":[0,"4"]})", "'data_offsets' is [0,\"4\"]");
  reject(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})", "'data_offsets' is [-4,0]");
}

TEST_CASE("unknown dtype is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes(R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("tensor 'w'") &&
                                                  Contains("unknown dtype 'C64'") && Contains("supported: U64, I64, F64"));
}

TEST_CASE("a gap between tensors is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      std::string(12, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("tensor 'b'") &&
                                                  Contains("previous tensor ends at 4 (gap)"));
  BadFile not_from_zero(one_f32("[4,12]", 12));
  CHECK_THROWS_WITH(io::read_safetensors(not_from_zero.path), Contains("tensor 'a'") && Contains("ends at 0 (gap)"));
}

TEST_CASE("overlapping tensors are rejected", "[safetensors]") {
  BadFile f(safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("tensor 'b'") &&
                                                  Contains("previous tensor ends at 8 (overlap)"));
}

TEST_CASE("data_offsets ending before they begin are rejected", "[safetensors]") {
  // Sorted by (begin, end) the empty span comes first; a second tensor then ends before it begins.
  BadFile g(safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("c":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
      std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(g.path),
                    Contains(g.path.string()) && Contains("tensor 'c'") && Contains("[4, 0] end before they begin"));
}

TEST_CASE("shape whose byte size overflows is rejected", "[safetensors]") {
  BadFile f(safetensors_bytes(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path),
                    Contains(f.path.string()) && Contains("tensor 'w'") && Contains("overflows the size computation"));
  BadFile big_dim(safetensors_bytes(
      R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,4]}})", std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(big_dim.path), Contains("tensor 'w'") && Contains("overflows"));
}

TEST_CASE("byte span different from numel * itemsize is rejected", "[safetensors]") {
  BadFile f(one_f32("[0,6]", 6));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("tensor 'a'") &&
                                                  Contains("needs 8 bytes but data_offsets [0, 6] span 6"));
}

TEST_CASE("trailing bytes after the last tensor are rejected", "[safetensors]") {
  BadFile f(one_f32("[0,8]", 9));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("1 trailing bytes after the last tensor"));
}

TEST_CASE("data section shorter than the offsets is rejected", "[safetensors]") {
  BadFile f(one_f32("[0,8]", 5));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("file truncated"));
}

TEST_CASE("duplicate tensor names are rejected", "[safetensors]") {
  BadFile f(safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      std::string(8, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains(f.path.string()) && Contains("duplicate key 'a'"));
  BadFile nested(safetensors_bytes(R"({"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})",
                                   std::string(4, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(nested.path), Contains("duplicate key 'dtype'"));
}

TEST_CASE("__metadata__ that is not a string-to-string map is rejected", "[safetensors]") {
  BadFile number(safetensors_bytes(R"({"__metadata__":{"format":"pt","step":3}})", ""));
  CHECK_THROWS_WITH(io::read_safetensors(number.path), Contains(number.path.string()) &&
                                                       Contains("'__metadata__' key 'step' is 3, not a string"));
  BadFile list(safetensors_bytes(R"({"__metadata__":["pt"]})", ""));
  CHECK_THROWS_WITH(io::read_safetensors(list.path), Contains("'__metadata__' is not a JSON object of strings"));
}

TEST_CASE("what the reference accepts is accepted: null metadata, padding, any key order, empty tensors",
          "[safetensors]") {
  BadFile f(safetensors_bytes(
      R"({"z":{"dtype":"I16","shape":[2],"data_offsets":[0,4]},"__metadata__":null,"e":{"dtype":"F32","shape":[3,0],)"
      R"("data_offsets":[4,4]},"a":{"dtype":"U8","shape":[],"data_offsets":[4,5]}}   )",
      std::string("\x01\x00\xff\xff\x07", 5)));
  const auto content = io::read_safetensors(f.path);
  CHECK(content.metadata.empty());
  CHECK(content.tensors.at("z").equal(torch::tensor({1, -1}, torch::kInt16)));
  CHECK(content.tensors.at("e").sizes() == torch::IntArrayRef{3, 0});
  CHECK(content.tensors.at("a").dim() == 0);
  CHECK(content.tensors.at("a").item<uint8_t>() == 7);
}

TEST_CASE("a header nested 100,000 deep is refused at 128 levels, not a stack overflow", "[safetensors]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  BadFile f(safetensors_bytes(R"({"a":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,8]}})",
                              std::string(8, '\0')));
  CHECK_THROWS_WITH(io::read_safetensors(f.path), Contains("bad.safetensors: header: invalid JSON: nested deeper than 128"));
}

TEST_CASE("a long value in a message is cut, so the error stays one short line", "[safetensors]") {
  const std::string long_value = "\"" + std::string(20000, 'x') + "\"";
  BadFile f(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[)" + long_value + R"(],"data_offsets":[0,8]}})",
                              std::string(8, '\0')));
  try {
    io::read_safetensors(f.path);
    FAIL("accepted");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Contains("'shape' holds \"xxxx") && Contains("..."));
    CHECK(message.size() < 400);
  }
}
