// ctxext eval ppl: mean next-token NLL of an HF model on one token sequence (one window of
// eval/sliding_perplexity.h), optionally with another RoPE method applied on the fly.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/eval_flags.h"
#include "core/error.h"
#include "core/text_file.h"
#include "data/tokenizer.h"
#include "eval/sliding_perplexity.h"
#include "io/strict_json.h"

namespace ctxext::cli {

namespace {

struct PplFlags {
  EvalModelFlags model;
  std::string tokens_file;
  std::string text_file;
  std::string tokenizer;
  int64_t seq_len = 0;
  bool json = false;
  int64_t chunk = 1024;
};

// A JSON array of token ids, each in [0, vocab).
std::vector<int64_t> read_token_file(const std::string& path, int64_t vocab_size) {
  const auto json = io::parse_strict_json(read_text_file(path, "token file"), path);
  if (!json.is_array()) fail("{}: expected a JSON array of token ids, got {}", path, json.type_name());
  std::vector<int64_t> ids;
  ids.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const auto& v = json[i];
    if (!v.is_number_integer()) fail("{}: token {} = {}: expected an integer token id", path, i, io::json_excerpt(v));
    const int64_t id = v.get<int64_t>();
    if (id < 0 || id >= vocab_size)
      fail("{}: token {} = {}: outside the model's vocabulary [0, {})", path, i, id, vocab_size);
    ids.push_back(id);
  }
  return ids;
}

void run_ppl(const PplFlags& f, const RopeFlags& rope_flags) {
  const auto config = eval_model_config(f.model, rope_flags);
  // --text: tokenized as LLaMA's HF tokenizer encodes it, BOS first.
  const auto ids = f.tokens_file.empty() ? load_eval_tokenizer(f.model, f.tokenizer, config.vocab_size)
                                               .encode_with_bos(read_text_file(f.text_file, "text to score"))
                                         : read_token_file(f.tokens_file, config.vocab_size);
  const std::string source = f.tokens_file.empty() ? f.text_file : f.tokens_file;
  if (static_cast<int64_t>(ids.size()) < f.seq_len)
    fail("{}: {} tokens, fewer than --seq-len {}", source, ids.size(), f.seq_len);

  auto model = load_eval_model(f.model, config.rope);
  // One window of seq_len tokens: every token but the first is scored, in one causal forward pass.
  const auto tokens = torch::tensor(ids, torch::kInt64).slice(0, 0, f.seq_len);
  const auto result = eval::sliding_perplexity(*model, tokens, f.seq_len, f.seq_len, f.chunk);
  if (f.json) {
    std::cout << nlohmann::json{{"tokens", result.tokens}, {"nll", result.nll}, {"ppl", result.ppl}}.dump()
              << std::endl;
  } else {
    std::cout << fmt::format("{}: RoPE {}, seq_len {}: mean NLL {:.6f} nats over {} tokens, perplexity {:.4f}\n",
                             f.model.model, config.rope.type, f.seq_len, result.nll, result.tokens, result.ppl);
  }
}

}  // namespace

void add_eval(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Evaluate a model (see the subcommands)");
  eval->require_subcommand(1);
  auto* cmd = eval->add_subcommand(
      "ppl",
      "Mean next-token negative log-likelihood (nats) and perplexity of an HF model on the first --seq-len tokens "
      "of --tokens (a JSON array of ids) or of --text (tokenized with --tokenizer, BOS first), in one causal "
      "forward pass. --rope-type/--factor/--rope apply another RoPE method without exporting.");
  auto f = std::make_shared<PplFlags>();
  add_eval_model_flags(*cmd, f->model);
  auto* tokens = cmd->add_option("--tokens", f->tokens_file, "JSON file: an array of token ids");
  auto* text = cmd->add_option("--text", f->text_file, "UTF-8 text file to tokenize");
  tokens->excludes(text);
  cmd->add_option("--tokenizer", f->tokenizer, "sentencepiece model for --text (default: MODEL/tokenizer.model)")
      ->needs(text);
  cmd->add_option("--seq-len", f->seq_len, "tokens scored (the first N; N-1 predictions)")
      ->required()
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 40));
  cmd->add_flag("--json", f->json, "print one JSON line {\"tokens\", \"nll\", \"ppl\"}");
  cmd->add_option("--chunk", f->chunk, "positions per vocabulary projection (bounds logits memory)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto rope = add_rope_flags(*cmd);
  add_eval_tasks(*eval);
  cmd->callback([f, rope] {
    if (f->tokens_file.empty() && f->text_file.empty()) fail("eval ppl: give --tokens FILE or --text FILE");
    run_ppl(*f, *rope);
  });
}

}  // namespace ctxext::cli
