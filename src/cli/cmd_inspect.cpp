// ctxext inspect --model DIR: what an HF folder holds (architecture, parameters, dtype, RoPE
// method), with every tensor checked against config.json.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "core/dtype_names.h"
#include "core/threads.h"
#include "model/hf_checkpoint.h"
#include "model/hf_config.h"
#include "model/rope_description.h"

namespace ctxext::cli {

namespace {

void run_inspect(const std::string& folder) {
  const auto checkpoint = model::read_hf_checkpoint(folder);
  const auto& c = checkpoint.config;
  int64_t counted = 0;
  for (const auto& [name, tensor] : checkpoint.tensors)
    if (name.find("rotary_emb") == std::string::npos) counted += tensor.numel();

  const std::string attention = c.num_key_value_heads == c.num_attention_heads ? "MHA"
                                : c.num_key_value_heads == 1                    ? "MQA"
                                                                                : "GQA";
  std::cout << fmt::format("model         {}\n", folder)
            << fmt::format("architecture  LLaMA: {} layers, hidden {}, intermediate {}, {} heads ({} key/value, {}), "
                           "head dim {}, vocab {}{}\n",
                           c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.num_attention_heads,
                           c.num_key_value_heads, attention, c.resolved_head_dim(), c.vocab_size,
                           c.tie_word_embeddings ? ", tied embeddings" : "")
            << fmt::format("parameters    {} ({:.3f} B)\n", counted, static_cast<double>(counted) / 1e9)
            << fmt::format("dtype         {}\n", dtype_name(model::checkpoint_dtype(checkpoint.tensors, folder)))
            << fmt::format("context       max_position_embeddings {}\n", c.max_position_embeddings)
            << fmt::format("rope          {}\n", model::describe_rope(c.rope))
            << fmt::format("tensors       {} checked against config.json: ok\n", checkpoint.tensors.size());
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect",
      "Show an HF model folder's configuration, parameter count, dtype and RoPE method; checks every tensor's "
      "name and shape against config.json (exit 2 naming the first bad one)");
  auto folder = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--model", *folder, "HF model folder (config.json + *.safetensors)")->required();
  cmd->add_option("--threads", *threads, "intra-op CPU threads; 0 = all cores")->capture_default_str();
  cmd->callback([folder, threads] {
    configure_threads(*threads);
    run_inspect(*folder);
  });
}

}  // namespace ctxext::cli
