#include "data/data_options.h"

#include <filesystem>

namespace ctxext::data {
namespace {

std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

}  // namespace

DataOptions parse_data_options(const ConfigNode& node) {
  DataOptions o;
  o.format = node.get_choice("format", "sharegpt", {"sharegpt", "text"}) == "text" ? DataFormat::text
                                                                                  : DataFormat::sharegpt;
  const std::string path = node.require<std::string>("path");
  if (path.empty()) node.reject("path", "must name a .json or .jsonl file");
  o.path = absolute_path(path);
  const std::string tokenizer = node.get<std::string>("tokenizer", "");
  if (!tokenizer.empty()) o.tokenizer = absolute_path(tokenizer);
  o.max_seq_len = node.get_int("max_seq_len", o.max_seq_len, 1, int64_t{1} << 24);
  o.min_tokens = node.get_int("min_tokens", o.min_tokens, 0, o.max_seq_len);
  o.num_samples = node.get_int("num_samples", o.num_samples, 0, INT64_MAX);
  o.select = node.get_choice("select", "first", {"first", "random"}) == "random" ? Selection::random
                                                                                 : Selection::first;
  o.seed = static_cast<uint64_t>(node.get_int("seed", 0, 0, INT64_MAX));
  o.overflow = node.get_choice("overflow", "truncate", {"truncate", "split"}) == "split" ? Overflow::split
                                                                                       : Overflow::truncate;
  o.shuffle = node.get<bool>("shuffle", o.shuffle);
  o.skip_bad = node.get<bool>("skip_bad", o.skip_bad);
  o.system_prompt = node.get_optional<std::string>("system_prompt");
  if (o.system_prompt && o.format == DataFormat::text)
    node.reject("system_prompt", "only applies to format: sharegpt");
  if (const auto eval_path = node.get_optional<std::string>("eval_path")) {
    if (eval_path->empty()) node.reject("eval_path", "must name a .json or .jsonl file");
    o.eval_path = absolute_path(*eval_path);
  }
  node.check_no_unknown_keys();
  return o;
}

DataOptions eval_data_options(const DataOptions& options) {
  DataOptions o = options;
  o.path = options.eval_path;
  o.num_samples = 0;
  o.select = Selection::first;
  return o;
}

}  // namespace ctxext::data
