#include "recipes/config_schema.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "rope/rope_method.h"
#include "rope/rope_options.h"

namespace ctxext::recipes {

const std::vector<ConfigSectionSpec>& config_sections() {
  static const std::vector<ConfigSectionSpec> sections = {
      {"", "The top level: where the run writes and whether it resumes."},
      {"model", "The base model: an HF folder (model.path) or random weights of a preset shape (model.preset). "
                "The shape keys below apply to a preset only; an HF folder's shape is its config.json. The "
                "precision is train.precision (model.dtype was removed: it never had an effect)."},
      {"rope", "The RoPE method trained for, over the model's own RoPE settings: every key defaults to what the "
               "model says (config.json's rope_theta and rope_scaling, or the preset's), and the Default column "
               "is the value when it says nothing. Formulas: docs/rope.md. Without a rope: section the model "
               "keeps its own RoPE."},
      {"data", "The training samples: a ShareGPT or plain-text file, tokenized with the LLaMA-2 chat template "
               "(below), fitted to data.max_seq_len."},
      {"train", "Optimizer, schedule, batch arithmetic, precision and distribution. The run's length is "
                "train.epochs or train.steps (one of them, or both agreeing)."},
      {"checkpoint", "Crash-safe checkpoints in <output_dir>/checkpoints/step-N (the final step's unless "
                     "checkpoint.final is false)."},
      {"export", "The Hugging Face folder written to <output_dir>/export after training, with "
                 "ctxext_training.json: the resolved config, the data file's size and CRC-32C, steps, final "
                 "loss, ctxext version and UTC time."},
      {"runtime", "Where and how the process runs."},
  };
  return sections;
}

namespace {

// A number `key` accepts other than its default, for the schema test's example.
std::string example_number(const rope::RopeKey& key) {
  const rope::RopeOptions defaults;
  const double now = key.kind == rope::RopeKey::Kind::integer ? static_cast<double>(defaults.*key.integer)
                                                        : defaults.*key.number;
  for (double candidate : {now * 2, now + 1, key.min + 1, key.min + 0.5})
    if (candidate != now && key.check(candidate).empty()) return fmt::format("{}", candidate);
  fail("rope.{}: no example value in its range", key.name);
}

// The rows of the `rope:` section, from the RoPE registry (rope/rope_options.h, rope/rope_method.h).
std::vector<ConfigKeySpec> rope_rows() {
  std::vector<ConfigKeySpec> rows;
  rows.push_back({"rope.type", "one of", "none", true, fmt::format("{}", fmt::join(rope::rope_method_names(), ", ")),
                  "yarn", "", "the method (each described in docs/rope.md); none keeps the model's RoPE"});
  for (const auto& k : rope::rope_option_keys()) {
    using Kind = rope::RopeKey::Kind;
    ConfigKeySpec row;
    row.key = std::string("rope.") + k.name;
    row.effect = k.help;
    row.literal_fallback = true;
    row.fallback = k.kind == Kind::optional_number ? "(unset)" : k.default_text();
    std::string range;
    if (k.kind == Kind::boolean) {
      range = "true, false";
    } else {
      const std::string low = fmt::format("{} {}", k.lower == rope::RopeKey::Lower::exclusive ? ">" : ">=", k.min);
      range = k.max < 1e12 ? fmt::format("{}, <= {}", low, k.max) : low;
      if (k.zero_means) range = fmt::format("0 ({}) or {}", k.zero_means, range);
      if (k.greater_than) range += fmt::format(", > {}", k.greater_than);
    }
    switch (k.kind) {
      case Kind::number: row.type = "number"; row.example = example_number(k); break;
      case Kind::integer: row.type = "integer"; row.example = example_number(k); break;
      case Kind::boolean:
        row.type = "boolean";
        row.example = rope::RopeOptions{}.*k.boolean ? "false" : "true";
        break;
      case Kind::optional_number: row.type = "number"; row.example = "1.5"; break;
      case Kind::number_list:
        row.type = "list of numbers";
        range = "each " + range;
        row.example = "[1.5, 2]";
        break;
    }
    row.allowed = range;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<ConfigKeySpec> all_rows() {
  // clang-format off
  std::vector<ConfigKeySpec> keys = {
      {"output_dir", "string", "runs/default", true, "a folder", "runs/other", "",
       "where metrics.jsonl, checkpoints/ and export/ are written; one run per folder (a lock file)"},
      {"resume", "string", "auto", true, "auto, none or a checkpoint folder", "none", "",
       "auto: the newest complete checkpoint in output_dir; none: start over; a folder: that checkpoint"},
      {"resume_allow_changed", "list of keys", "[]", true, "keys this config reads", "[train.lr]", "",
       "keys that change what was trained but may differ from the resumed checkpoint's config"},

      {"model.path", "folder", "required unless model.preset", false, "an HF folder (config.json, *.safetensors)",
       "FOLDER", "model.preset=null", "the base weights, shape, RoPE and tokenizer.model"},
      {"model.preset", "one of", "required unless model.path", false, "tiny, llama2-7b, llama2-13b, llama2-70b",
       "tiny", "", "random weights (seeded by runtime.seed) of this shape, instead of a folder"},
      {"model.vocab_size", "integer", "the preset's", false, "1 to 2^40", "5000", "", "preset only: the vocabulary size"},
      {"model.hidden_size", "integer", "the preset's", false, "1 to 2^40, a multiple of the heads", "512", "",
       "preset only: the hidden size"},
      {"model.intermediate_size", "integer", "the preset's", false, "1 to 2^40", "700", "",
       "preset only: the MLP's inner size"},
      {"model.num_hidden_layers", "integer", "the preset's", false, "1 to 100000", "2", "",
       "preset only: the number of decoder layers"},
      {"model.num_attention_heads", "integer", "the preset's", false, "1 to 100000, divides hidden_size", "4",
       "model.num_key_value_heads=4", "preset only: the query heads"},
      {"model.num_key_value_heads", "integer", "the preset's", false, "1 to 100000, divides num_attention_heads",
       "4", "", "preset only: the key/value heads (fewer than the query heads: grouped-query attention)"},
      {"model.max_position_embeddings", "integer", "the preset's", false, "1 to 2^40", "512", "",
       "preset only: the native context, also the RoPE's original context"},
      {"model.rope_theta", "number", "the preset's", false, "> 1", "20000", "", "preset only: the RoPE base"},

      {"data.format", "one of", "sharegpt", true, "sharegpt, text", "text", "",
       "sharegpt: conversations, loss on the assistant turns; text: {\"text\"} documents, loss on every token"},
      {"data.path", "file", "required", false, "a .json or .jsonl file", "other.jsonl", "",
       "the samples (relative paths from the working directory)"},
      {"data.tokenizer", "file", "the model folder's tokenizer.model", false, "a sentencepiece .model file",
       "other.model", "", "the tokenizer (required with model.preset)"},
      {"data.max_seq_len", "integer", "4096", true, "1 to 2^24", "2048", "", "the longest sample in tokens"},
      {"data.min_tokens", "integer", "1", true, "0 to data.max_seq_len", "10", "",
       "samples (or split pieces) shorter than this are dropped"},
      {"data.num_samples", "integer", "0", true, "0 (all) or more", "100", "",
       "how many of the kept samples to train on"},
      {"data.select", "one of", "first", true, "first, random", "random", "",
       "which num_samples: the first ones, or a seeded random subset"},
      {"data.seed", "integer", "0", true, "0 or more", "7", "", "the seed of data.select random and data.shuffle"},
      {"data.overflow", "one of", "truncate", true, "truncate, split", "split", "",
       "a sample longer than max_seq_len: cut its end off, or cut it into max_seq_len pieces"},
      {"data.shuffle", "boolean", "true", true, "true, false", "false", "",
       "a new seeded sample order every epoch, else file order"},
      {"data.skip_bad", "boolean", "false", true, "true, false", "true", "",
       "true: skip and count malformed records; false: fail on the first"},
      {"data.system_prompt", "string", "(unset)", true, "any text (sharegpt only)", "Be brief.", "",
       "the system prompt of conversations that have none"},
      {"data.eval_path", "file", "(unset)", true, "a .json or .jsonl file in data.format (needs train.eval_every)",
       "held_out.jsonl", "train.eval_every=2",
       "held-out samples scored every train.eval_every steps: read like data.path (template, loss masking, "
       "max_seq_len, min_tokens), all of them (num_samples and select apply to training only)"},

      {"train.epochs", "integer", "(unset)", true, "1 to 1e6 (epochs or steps is required)", "2", "",
       "passes over the samples; the steps follow from the samples kept"},
      {"train.steps", "integer", "(unset)", true, "1 to 1e8 (with epochs: must agree)", "3", "",
       "optimizer steps"},
      {"train.drop_last", "boolean", "true", true, "true (false is refused)", "", "",
       "an epoch's last partial global batch is skipped, as the paper does"},
      {"train.lr", "number", "2e-05", true, "> 0 and < 1", "1e-4", "", "the peak learning rate"},
      {"train.weight_decay", "number", "0", true, "0 to 1", "0.1", "", "AdamW's decoupled weight decay"},
      {"train.beta1", "number", "0.9", true, "0 to 0.999999", "0.8", "", "AdamW's beta1"},
      {"train.beta2", "number", "0.95", true, "0 to 0.999999", "0.999", "", "AdamW's beta2"},
      {"train.eps", "number", "1e-08", true, "> 0", "1e-6", "", "AdamW's epsilon"},
      {"train.schedule", "one of", "constant", true, "constant, linear, cosine", "cosine", "",
       "the learning rate after warmup"},
      {"train.warmup_steps", "integer", "0", true, "0 to train.steps", "1", "",
       "steps of linear warmup from lr/warmup_steps to lr"},
      {"train.min_lr_ratio", "number", "0", true, "0 to 1", "0.1", "", "linear/cosine decay ends at lr x this"},
      {"train.micro_batch_size", "integer", "1", true, "1 to 2^20", "2", "train.global_batch_size=4",
       "samples per forward/backward pass"},
      {"train.global_batch_size", "integer", "1", true, "a multiple of micro_batch_size x world size", "4", "",
       "samples per optimizer step (gradient accumulation makes up the rest)"},
      {"train.sharding", "one of", "none", true, "none, optimizer, full", "full", "",
       "what is split across ranks: nothing, optimizer state + gradients (ZeRO-2), also the weights (ZeRO-3)"},
      {"train.offload", "one of", "none", true, "none, optimizer", "optimizer", "",
       "optimizer: the fp32 master weights and AdamW state live in host memory"},
      {"train.max_grad_norm", "number", "1", true, "0 (off) or more", "0.5", "", "gradient-norm clipping"},
      {"train.nan_policy", "one of", "abort", true, "abort, skip", "skip", "",
       "a non-finite loss or gradient: stop, or skip the step"},
      {"train.precision", "one of", "auto", true, "auto, fp32, bf16", "bf16", "",
       "the compute dtype (masters stay fp32); auto: bf16 on CUDA, fp32 on the CPU"},
      {"train.activation_checkpointing", "boolean", "false", true, "true, false", "true", "",
       "recompute each layer's activations in backward: less memory, same result"},
      {"train.eval_every", "integer", "0", true, "0 (off) or more; > 0 needs data.eval_path", "2",
       "data.eval_path=held_out.jsonl",
       "every N optimizer steps and at the last: the mean next-token loss over data.eval_path (no gradients, "
       "eval mode), as eval_loss and eval_tokens in metrics.jsonl and in the progress line"},

      {"checkpoint.every_steps", "integer", "0", true, "0 (only the final step) or more", "2", "",
       "a checkpoint every N steps"},
      {"checkpoint.keep_last", "integer", "2", true, "1 or more", "1", "", "complete checkpoints kept"},
      {"checkpoint.final", "boolean", "true", true, "true, false", "false", "",
       "an optimizer checkpoint at the last step (resumable; a 7B one is ~81 GB); false: only the HF export"},

      {"export.enabled", "boolean", "true", true, "true, false", "false", "", "write <output_dir>/export"},
      {"export.max_shard_bytes", "integer", "5368709120", true, "2^20 or more", "1048576", "",
       "the largest safetensors shard of the export"},

      {"runtime.threads", "integer", "0", true, "0 (all cores) to 4096", "2", "", "intra-op CPU threads"},
      {"runtime.device", "one of", "cpu", true, "cpu, cuda", "cuda", "", "where the model computes (cuda: the "
       "local rank's GPU)"},
      {"runtime.seed", "integer", "0", true, "0 or more", "42", "",
       "the torch seed: preset weights and every random draw of training"},
      {"runtime.dist_timeout_s", "integer", "300", true, "1 to 604800", "60", "",
       "the longest a collective or the rendezvous may wait before the job fails"},
  };
  // clang-format on
  const auto rope = rope_rows();
  keys.insert(keys.end(), rope.begin(), rope.end());
  return keys;
}

}  // namespace

const std::vector<ConfigKeySpec>& config_schema() {
  static const std::vector<ConfigKeySpec> keys = all_rows();
  return keys;
}

namespace {

// A table cell: a | would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string section_of(const std::string& key) {
  const auto dot = key.find('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

}  // namespace

std::string config_reference_markdown() {
  std::string out;
  for (const auto& section : config_sections()) {
    out += fmt::format("### {}\n\n{}\n\n", section.name[0] ? fmt::format("`{}:`", section.name) : "Top level",
                       section.about);
    out += "| Key | Type | Default | Allowed | Effect |\n|---|---|---|---|---|\n";
    for (const auto& k : config_schema()) {
      if (section_of(k.key) != section.name) continue;
      const std::string fallback = k.literal_fallback ? fmt::format("`{}`", k.fallback) : std::string(k.fallback);
      out += fmt::format("| `{}` | {} | {} | {} | {} |\n", k.key, k.type, cell(fallback), cell(k.allowed),
                         cell(k.effect));
    }
    out += "\n";
  }
  return out;
}

}  // namespace ctxext::recipes
