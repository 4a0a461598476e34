// ctxext export --model DIR --out DIR: an HF folder with the chosen RoPE method written into
// config.json (completely), the tensors (optionally converted), the tokenizer files copied.
#include <fmt/format.h>
#include <torch/torch.h>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/dtype_names.h"
#include "core/threads.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/hf_fidelity_warning.h"
#include "model/hf_rope.h"
#include "model/rope_overrides.h"

namespace ctxext::cli {

namespace {

struct ExportFlags {
  std::string model;
  std::string out;
  std::string dtype;  // empty: keep the checkpoint's
  int64_t max_shard_mb = 5 * 1024;
  bool overwrite = false;
  int threads = 0;
};

void run_export(const ExportFlags& f, const RopeFlags& rope_flags) {
  configure_threads(f.threads);
  namespace fs = std::filesystem;
  const fs::path model(f.model);
  const fs::path out(f.out);
  if (fs::exists(out)) {
    std::error_code ec;
    if (fs::equivalent(model, out, ec)) fail("--out {}: is the --model folder itself; export into a new folder", f.out);
    if (!f.overwrite) fail("--out {}: already exists (choose a new folder, or pass --overwrite)", f.out);
  }
  auto checkpoint = model::read_hf_checkpoint(model);
  checkpoint.config.rope = model::apply_rope_overrides(checkpoint.config.rope, rope_flags.overrides());
  checkpoint.config.max_position_embeddings = model::hf_max_position_embeddings(checkpoint.config.rope);
  // Fail on an RoPE setting HF cannot express before anything is written.
  model::hf_config_json(checkpoint.config, torch::kFloat32);

  if (!f.dtype.empty()) {
    const auto dtype = parse_dtype_name(f.dtype, "--dtype");
    for (auto& [name, tensor] : checkpoint.tensors) tensor = tensor.to(dtype);
  }
  model::ExportOptions options;
  options.tokenizer_source = model;
  options.max_shard_bytes = f.max_shard_mb << 20;
  model::export_hf_checkpoint(checkpoint.tensors, checkpoint.config, out, options);
  std::cout << fmt::format("{}: exported {} with RoPE {} (HF rope_type \"{}\"), max_position_embeddings {}\n", f.out,
                           f.model, checkpoint.config.rope.type, model::hf_rope_type(checkpoint.config.rope),
                           checkpoint.config.max_position_embeddings);
  model::warn_if_hf_frequencies_only(checkpoint.config);
}

}  // namespace

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "Write an HF model folder (config.json + safetensors + tokenizer files) from --model, with the RoPE method "
      "given by --rope-type/--factor/--rope applied to config.json (rope_parameters, rope_scaling, rope_theta and "
      "ctxext_rope all written). The folder appears complete or not at all.");
  auto f = std::make_shared<ExportFlags>();
  cmd->add_option("--model", f->model, "source HF model folder")->required();
  cmd->add_option("--out", f->out, "output folder (must not exist unless --overwrite)")->required();
  cmd->add_option("--dtype", f->dtype, "convert the tensors (default: keep the checkpoint's dtype)")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16"}));
  cmd->add_option("--max-shard-mb", f->max_shard_mb, "shard the safetensors above this size (MiB)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--overwrite", f->overwrite, "replace an existing --out folder (atomically, at the end)");
  cmd->add_option("--threads", f->threads, "intra-op CPU threads; 0 = all cores")->capture_default_str();
  auto rope = add_rope_flags(*cmd);
  cmd->callback([f, rope] { run_export(*f, *rope); });
}

}  // namespace ctxext::cli
