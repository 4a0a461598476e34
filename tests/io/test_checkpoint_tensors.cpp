// Checkpoint folders: single file or HF shards + index; the index is validated against the shards.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "core/error.h"
#include "io/checkpoint_tensors.h"
#include "io/safetensors.h"
#include "safetensors_test_util.h"
#include "support/test_support.h"

using namespace ctxext;
using namespace ctxext::testing;
using Catch::Matchers::Contains;

namespace {

// 7 tensors of 16..64 bytes; in name order their sizes are 64, 16, 48, 32, 16, 64, 40.
std::map<std::string, torch::Tensor> small_model() {
  return {
      {"a.weight", torch::arange(16, torch::kFloat32)},
      {"b.bias", torch::arange(8, torch::kBFloat16)},
      {"c.weight", torch::arange(12, torch::kFloat32).reshape({3, 4})},
      {"d.ids", torch::arange(4, torch::kInt64)},
      {"e.scale", torch::ones({4}, torch::kFloat32)},
      {"f.weight", torch::arange(8, torch::kFloat64)},
      {"g.mask", torch::ones({40}, torch::kBool)},
  };
}

std::string index_json(const std::string& weight_map) {
  return R"({"metadata": {"total_size": 0}, "weight_map": )" + weight_map + "}";
}

}  // namespace

TEST_CASE("a small checkpoint is one model.safetensors with format metadata", "[checkpoint]") {
  TempDir dir;
  const auto tensors = small_model();
  io::write_checkpoint_tensors(dir.path(), tensors);
  CHECK(fs::exists(dir / "model.safetensors"));
  CHECK_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  CHECK(io::read_safetensors(dir / "model.safetensors").metadata == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(listing(io::read_checkpoint_tensors(dir.path()), {}) == listing(tensors, {}));
}

TEST_CASE("a checkpoint above max_shard_bytes is sharded with HF names and index, and round-trips", "[checkpoint]") {
  TempDir dir;
  const auto tensors = small_model();
  io::write_checkpoint_tensors(dir.path(), tensors, 100);
  // Planned by hand from the sizes above: [64,16] [48,32,16] [64] [40] -> 4 shards.
  for (const char* shard : {"model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                            "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"})
    CHECK(fs::exists(dir / shard));
  CHECK_FALSE(fs::exists(dir / "model.safetensors"));
  const std::string index = read_text(dir / "model.safetensors.index.json");
  CHECK_THAT(index, Contains("\"total_size\": 280") && Contains("\"c.weight\": \"model-00002-of-00004.safetensors\""));
  CHECK(listing(io::read_checkpoint_tensors(dir.path()), {}) == listing(tensors, {}));

  io::write_checkpoint_tensors(dir.path(), tensors, 100);  // deterministic: same bytes again
  CHECK(read_text(dir / "model.safetensors.index.json") == index);
}

TEST_CASE("the shard split and index match huggingface_hub's", "[checkpoint][oracle]") {
  for (int64_t max_bytes : {16, 100, 150}) {
    TempDir dir;
    io::write_checkpoint_tensors(dir.path(), small_model(), max_bytes);
    INFO("max_shard_bytes " << max_bytes);
    CHECK_THAT(run_oracle("safetensors_check.py", {"shards", dir.path().string(), std::to_string(max_bytes)}),
               Contains("ok"));
  }
}

TEST_CASE("a folder without model.safetensors or an index is rejected", "[checkpoint]") {
  TempDir dir;
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains(dir.path().string()) && Contains("no model.safetensors or model.safetensors.index.json"));
}

TEST_CASE("index shard names must be plain file names", "[checkpoint]") {
  for (const std::string shard : {"../model.safetensors", "sub/model.safetensors", "/etc/passwd", "..", ""}) {
    TempDir dir;
    write_text(dir / "model.safetensors.index.json", index_json(R"({"w": ")" + shard + R"("})"));
    INFO(shard);
    CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                      Contains("model.safetensors.index.json") && Contains("tensor 'w'") &&
                          Contains("not a plain file name"));
  }
}

TEST_CASE("a shard listed in the index must exist", "[checkpoint]") {
  TempDir dir;
  write_text(dir / "model.safetensors.index.json", index_json(R"({"w": "model-00001-of-00001.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("model.safetensors.index.json") &&
                        Contains("shard 'model-00001-of-00001.safetensors' listed in the index does not exist"));
}

TEST_CASE("a shard that is a symlink to a device or a FIFO is named as what it is, not as missing", "[checkpoint]") {
  TempDir dir;
  write_text(dir / "model.safetensors.index.json", index_json(R"({"w": "model-00001-of-00001.safetensors"})"));
  fs::create_symlink("/dev/null", dir / "model-00001-of-00001.safetensors");
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("shard 'model-00001-of-00001.safetensors' listed in the index is not a regular file (a "
                             "character device, through the symlink to /dev/null)"));
  fs::remove(dir / "model-00001-of-00001.safetensors");
  REQUIRE(::mkfifo((dir / "model-00001-of-00001.safetensors").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("listed in the index is not a regular file (a FIFO)"));
}

TEST_CASE("a model.safetensors or index that is not a regular file is named as what it is", "[checkpoint]") {
  TempDir dir;
  fs::create_symlink("/dev/null", dir / "model.safetensors");
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains(dir.path().string() + ": model.safetensors is not a regular file (a character device, "
                                                   "through the symlink to /dev/null)"));
  fs::remove(dir / "model.safetensors");
  fs::create_directory(dir / "model.safetensors.index.json");
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("model.safetensors.index.json is not a regular file (a folder)"));
}

TEST_CASE("a tensor must be in the shard the index names", "[checkpoint]") {
  TempDir dir;
  io::write_safetensors(dir / "s1.safetensors", {{"a", torch::zeros({2})}});
  io::write_safetensors(dir / "s2.safetensors", {{"b", torch::zeros({2})}});
  write_text(dir / "model.safetensors.index.json", index_json(R"({"a": "s2.safetensors", "b": "s1.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("model.safetensors.index.json") && Contains("tensor 'a' is in shard 's1.safetensors'") &&
                        Contains("index names 's2.safetensors'"));
}

TEST_CASE("a tensor listed in the index but absent from every shard is rejected", "[checkpoint]") {
  TempDir dir;
  io::write_safetensors(dir / "s1.safetensors", {{"a", torch::zeros({2})}});
  write_text(dir / "model.safetensors.index.json", index_json(R"({"a": "s1.safetensors", "b": "s1.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("tensor 'b' is not in shard 's1.safetensors' where the index places it"));
}

TEST_CASE("a tensor present in a shard but missing from the index is rejected", "[checkpoint]") {
  TempDir dir;
  io::write_safetensors(dir / "s1.safetensors", {{"a", torch::zeros({2})}, {"extra", torch::zeros({1})}});
  write_text(dir / "model.safetensors.index.json", index_json(R"({"a": "s1.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("tensor 'extra' in shard 's1.safetensors' is not listed in the weight_map"));
}

TEST_CASE("a tensor name in two shards is rejected", "[checkpoint]") {
  TempDir dir;
  io::write_safetensors(dir / "s1.safetensors", {{"a", torch::zeros({2})}});
  io::write_safetensors(dir / "s2.safetensors", {{"a", torch::ones({2})}, {"b", torch::zeros({2})}});
  write_text(dir / "model.safetensors.index.json", index_json(R"({"a": "s1.safetensors", "b": "s2.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("model.safetensors.index.json") &&
                        Contains("tensor 'a' is in two shards: 's1.safetensors' and 's2.safetensors'"));
}

TEST_CASE("a malformed index is rejected", "[checkpoint]") {
  const auto reject = [](const std::string& text, const std::string& reason) {
    TempDir dir;
    write_text(dir / "model.safetensors.index.json", text);
    INFO(text);
    CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()), Contains("model.safetensors.index.json") && Contains(reason));
  };
  reject(R"({"weight_map": {"a": "s1.safetensors",)", "invalid JSON");
  reject(R"({"metadata": {}})", "expected a JSON object with a 'weight_map' object");
  reject(R"(["s1.safetensors"])", "expected a JSON object with a 'weight_map' object");
  reject(R"({"weight_map": {"a": 3}})", "weight_map['a'] is 3, not a file name");
  reject(R"({"weight_map": {}})", "weight_map is empty");
  reject(R"({"weight_map": {"a": "s1.safetensors", "a": "s2.safetensors"}})", "duplicate key 'a'");
}

TEST_CASE("a bad shard is reported by its own file name", "[checkpoint]") {
  TempDir dir;
  write_text(dir / "s1.safetensors", "short");
  write_text(dir / "model.safetensors.index.json", index_json(R"({"a": "s1.safetensors"})"));
  CHECK_THROWS_WITH(io::read_checkpoint_tensors(dir.path()),
                    Contains("s1.safetensors: not a safetensors file") && Contains("shorter than"));
}
