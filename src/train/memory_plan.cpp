#include "train/memory_plan.h"

#include <algorithm>

#include "train/flat_shard.h"

namespace ctxext::train {

namespace {

double ceil_div(double a, double b) { return static_cast<double>((static_cast<int64_t>(a) + static_cast<int64_t>(b) - 1) / static_cast<int64_t>(b)); }

}  // namespace

MemoryPlan plan_memory(const MemoryPlanInput& in) {
  const model::LlamaConfig& c = in.model;
  // Shapes: h hidden, I intermediate, n query heads, kv key/value heads, d head dim, V vocab,
  // L layers; T = b x s positions of one micro-batch; Tc = b x min(chunk, s) positions of one loss chunk.
  const double h = c.hidden_size, I = c.intermediate_size, n = c.num_attention_heads, kv = c.num_key_value_heads;
  const double d = c.resolved_head_dim(), V = c.vocab_size, L = c.num_hidden_layers;
  const double T = static_cast<double>(in.micro_batch) * in.seq_len;
  const double Tc = static_cast<double>(in.micro_batch) * std::min(in.loss_chunk, in.seq_len);
  const double W = std::max<int64_t>(1, in.world_size);
  const double e = in.bf16 ? 2 : 4;  // bytes per element of the compute dtype
  constexpr double kF = 4;           // fp32

  // Parameters: a decoder layer (q,k,v,o; gate,up,down; two RMSNorm weights), the root unit
  // (embed_tokens [V, h], final norm [h], lm_head [V, h] unless tied).
  const double P_layer = h * n * d + 2 * h * kv * d + n * d * h + 3 * h * I + 2 * h;
  const double P_root = V * h * (c.tie_word_embeddings ? 1 : 2) + h;
  const double P = P_root + L * P_layer;

  // Which WeightUpdate (train/weight_update.cpp): the flat path for sharding optimizer, and for
  // one process with offload; FullyShardedAdamW for full; ReplicatedAdamW otherwise.
  const bool full = in.sharding == Sharding::full;
  const bool flat = !full && (in.sharding == Sharding::optimizer || in.offload_optimizer);
  const bool replicated = !full && !flat;
  const bool ckpt = in.activation_checkpointing;
  const bool off = in.offload_optimizer;
  // This rank's flat shard (dist::FlatLayout: ceil(numel / W), padded): one over all parameters
  // (ZeRO-2), one per unit (ZeRO-3: root + L layers).
  const double S = full ? ceil_div(P_root, W) + L * ceil_div(P_layer, W) : ceil_div(P, W);
  const double S_unit_max = full ? std::max(ceil_div(P_root, W), ceil_div(P_layer, W)) : S;

  MemoryPlan plan;
  plan.parameters = static_cast<int64_t>(P);
  auto& comps = plan.components;
  const auto add = [&](const std::string& name, double device, double host, bool estimate) {
    comps.push_back({name, device, host, estimate});
    return device;
  };

  // ---- model states ----
  // Weights [P] in the compute dtype. ZeRO-3 with checkpointing: the root unit whole for the
  // micro-batch plus the running decoder layer (released after its forward / recompute); without
  // checkpointing every layer stays whole from its forward to end_micro_batch.
  const double weights = full && ckpt ? (P_root + P_layer) * e : P * e;
  add("weights (" + std::string(in.bf16 ? "bf16" : "fp32") + ")", weights, 0, false);
  // param.grad in the compute dtype: all of them live from backward until the next step zeroes them;
  // ZeRO-3 reduce-scatters each layer's after its backward and frees it (the root's at end_micro_batch).
  const double grads = full && ckpt ? (P_root + P_layer) * e : P * e;
  add("gradients (param.grad)", grads, 0, false);
  // fp32 masters: ReplicatedAdamW keeps [P] fp32 copies only for bf16 (fp32 training steps the
  // parameters themselves); the flat path keeps [S] per rank on the state device.
  const double masters = replicated ? (in.bf16 ? kF * P : 0) : kF * S;
  add("fp32 master weights", off ? 0 : masters, off ? masters : 0, false);
  // fp32 gradients: ReplicatedAdamW's master.grad = g.to(fp32) [P] (bf16 only); the flat path's
  // summed gradient shard [S] on the state device (the host with offload: each reduced bucket is
  // copied there, FlatShard::reduce_scatter_grads).
  const double fp32_grads_dev = replicated ? (in.bf16 ? kF * P : 0) : (off ? 0 : kF * S);
  const double fp32_grads_host = !replicated && off ? kF * S : 0;
  add("fp32 gradients / gradient shard", fp32_grads_dev, fp32_grads_host, false);
  // AdamW exp_avg + exp_avg_sq: [P] or [S] fp32 each, created at the first step.
  const double moments = replicated ? 2 * kF * P : 2 * kF * S;
  add("AdamW moments (exp_avg, exp_avg_sq)", off ? 0 : moments, off ? moments : 0, false);
  // The AdamW step (train/fused_adamw.h, at::_fused_adamw_) updates in place in one pass: no temporaries.

  // ---- communication buffers ----
  constexpr double kAllReduceBucket = 25.0 * (1 << 20), kReduceScatterInput = 64.0 * (1 << 20);
  // ReplicatedAdamW (W > 1): each bucket's fp32 flat (cat of its gradients) is a member and stays
  // allocated until the next step's launch replaces it: [P] fp32 over all buckets, + one bucket's cat.
  const double comm_persistent = replicated && W > 1 ? kF * P : 0;
  const double comm_replicated_transient = replicated && W > 1 ? kAllReduceBucket : 0;
  // FlatShard::reduce_scatter_grads: input zeros({W * n}) fp32, n = min(64 MiB / 4 / W, shard)
  // elements (+ the [n] sum for ZeRO-3's accumulate; with offload + the [n] sum of the bucket being
  // reduced and of the two whose copies to the host are in flight, train/host_copy_queue.h).
  const double rs_n = std::min(kReduceScatterInput / kF / W, S_unit_max);
  const double rs_sums = off ? 3 : full ? 1 : 0;
  const double rs_bytes = flat || full ? kF * W * rs_n + rs_sums * kF * rs_n : 0;
  // all-gather, this rank's piece [n] and the gathered buffer [W x n] in the compute dtype: the
  // blocking one (ZeRO-2 after the step, ZeRO-3's root unit) one 64 MiB bucket at a time; ZeRO-3's
  // prefetch of the next layer starts every bucket of that layer at once.
  const auto bucket_piece = [&](double shard) { return std::min(kReduceScatterInput / kF / W, shard); };
  const double ag_step = flat ? bucket_piece(S) * (1 + W) * e : 0;
  const double ag_layer = full ? (ceil_div(P_layer, W) * (1 + W)) * e : 0;
  const double ag_root = full ? bucket_piece(ceil_div(P_root, W)) * (1 + W) * e : 0;
  add("communication buffers", comm_persistent + std::max({comm_replicated_transient, rs_bytes, ag_step, ag_layer, ag_root}), 0,
      false);

  // ---- activations (per micro-batch, counted from the model's ops; bytes per position) ----
  // A decoder layer without checkpointing keeps for backward:
  //   RMSNorm x2 (the fused ctxext::rms_norm): its input [T, h] e, the per-row inverse RMS [T] fp32,
  //              its output [T, h] e (saved by the projections)                       -> 2 x (2eh + 4)
  //   attention: rotated q [T, n*d], rotated k [T, kv*d], v [T, kv*d], SDPA output [T, n*d] (e),
  //              logsumexp [b, n, s] fp32                                              -> e(2nd + 2kv d) + 4n
  //   MLP: gate, up (saved by the fused ctxext::swiglu, which recomputes silu in its backward),
  //        silu(gate)*up (saved by down_proj) [T, I] (e)                             -> 3eI
  const double A_layer = 2 * (2 * e * h + kF) + e * (2 * n * d + 2 * kv * d) + kF * n + 3 * e * I;
  // Checkpointing keeps only each layer's input [T, h] e (CheckpointFunction::save_for_backward).
  const double stored_per_layer = ckpt ? e * h : A_layer;
  const double stored = L * T * stored_per_layer;
  add(ckpt ? "activation checkpoints (layer inputs)" : "saved activations (all layers)", stored, 0, false);
  // Final norm (input [T, h] e, inverse RMS [T] fp32, output [T, h] e) and the gradient w.r.t. its
  // output [T, h] e.
  const double final_norm = T * (2 * e * h + kF);
  const double hidden_grad = T * e * h;
  add("final norm + hidden-state gradient", final_norm + hidden_grad, 0, false);
  // One layer's backward (estimate): with checkpointing its recomputed saved set A_layer (norm 1's
  // saved input is the checkpointed input itself: not counted twice), plus the
  // gradient temporaries at the worst moment, the MLP's backward: the gradients of gate and of
  // up [T, I] (swiglu_backward's two outputs) while the saved product is already released, the
  // gradients w.r.t. the MLP input and the residual [T, h] (e), and the gradient flowing in and out
  // of the layer [T, h] e x 2.
  const double A_recompute = A_layer - e * h;
  const double bwd_temp = T * e * (2 * I + 2 * h) + 2 * T * e * h;
  const double layer_work = (ckpt ? T * A_recompute : 0) + bwd_temp;
  add(ckpt ? "recomputed layer + its backward (estimate)" : "layer backward temporaries (estimate)", layer_work, 0, true);
  // Forward of one layer under no_grad (checkpointing): q, k, v, rotated copies, gate, up, product.
  const double fwd_work = ckpt ? T * (e * (3 * I + 2 * n * d + 3 * kv * d) + kF * h) : T * e * h;
  // Fused loss (ops/linear_cross_entropy): the forward computes both gradients, grad_hidden [T, h] and
  // grad_weight [V, h] (e), and saves them for backward, which scales them into fresh tensors. Per
  // chunk: the logits [Tc, V] e (+ a fp32 copy on the CPU for bf16); for bf16 also a fp32 grad_weight
  // accumulator and each chunk's [V, h] e term.
  const double loss_bwd = (T + V) * h * e;
  const double loss_fwd = Tc * V * (e + (in.bf16 && !in.cuda ? kF : 0)) + (in.bf16 ? V * h * (kF + e) : 0) + loss_bwd;
  add("loss chunk (fp32 logits + gradient, estimate)", std::max(loss_fwd, loss_bwd), 0, true);

  // ---- host: the model is built/loaded in fp32 on the host before model_->to(device, dtype) ----
  const double load_host = in.cuda ? kF * P : 0;
  if (in.cuda) add("model load (fp32, setup only)", 0, load_host, false);

  // ---- phases: everything live at each phase's worst moment ----
  const double states_dev = weights + (off ? 0 : masters) + fp32_grads_dev + (off ? 0 : moments) + comm_persistent;
  const double states_host = off ? masters + moments + fp32_grads_host : 0;
  const double setup_dev = in.cuda ? P * e : kF * P + (in.bf16 ? P * e : 0);
  plan.phases.push_back({"setup (model load)", setup_dev, load_host});
  const double forward =
      states_dev + stored + final_norm + std::max(fwd_work, loss_fwd) + std::max(ag_layer, ag_root);
  plan.phases.push_back({"forward + loss", forward, states_host});
  const double root_grads = (V * h + h) * e;  // lm_head (or the tied embedding) + final norm
  const double loss_backward = states_dev + stored + final_norm + hidden_grad + root_grads + loss_bwd;
  plan.phases.push_back({"loss backward", loss_backward, states_host});
  double layer_backward = 0;
  for (int64_t k = 0; k < c.num_hidden_layers; ++k) {
    // Layer k's backward: layers above it are done (their grads kept, or reduced under ZeRO-3),
    // layers below still hold their checkpoints / saved activations.
    const double grads_done = full ? 0 : (L - 1 - k) * P_layer * e;
    const double live = states_dev + root_grads + grads_done + P_layer * e + (k + 1) * T * stored_per_layer +
                        layer_work + std::max({rs_bytes, ag_layer, comm_replicated_transient});
    layer_backward = std::max(layer_backward, live);
  }
  plan.phases.push_back({"layer backward", layer_backward, states_host});
  // Step: the param grads are still allocated only for ReplicatedAdamW (ZeRO-2 frees them once
  // reduce-scattered, ZeRO-3 per layer); ZeRO-2's all-gather.
  // ReplicatedAdamW's bucket copies are freed once summed, before the step.
  const double step_dev = states_dev - comm_persistent + (replicated ? P * e : 0) + ag_step;
  plan.phases.push_back({"optimizer step", step_dev, states_host});

  for (const auto& phase : plan.phases) {
    if (phase.device > plan.device_peak) plan.device_peak = phase.device, plan.device_peak_phase = phase.name;
    if (phase.host > plan.host_peak) plan.host_peak = phase.host, plan.host_peak_phase = phase.name;
  }
  return plan;
}

}  // namespace ctxext::train
