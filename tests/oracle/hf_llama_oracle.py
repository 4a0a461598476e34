#!/usr/bin/env python3
"""Hugging Face transformers as the oracle for ctxext's LLaMA model (tests/model, tests/cli).

Usage: hf_llama_oracle.py JOBS.json

JOBS.json is a list of jobs; all run in this one process (importing transformers takes seconds).
  {"mode": "run", "folder": F, "tokens": [[ids]], "grads": [param names], "out": FILE,
   "attn": "eager"|"sdpa", "query_scale": {"context": c, "skip_layers": k} (optional)}
      Loads F with stock LlamaForCausalLM in float32, runs the token batch, and writes FILE
      (safetensors): "logits" [b, s, vocab] float32, "loss" (mean next-token cross-entropy) and
      "grad.<name>" = d loss / d <name>. Metadata "rope_parameters" and "max_position_embeddings":
      the RoPE description transformers read from config.json (JSON).
      query_scale re-derives EABF independently of ctxext: HF's ABF model with the queries of layers
      >= skip_layers multiplied by max(1, ln(pos+1)/ln(c)) (computed in float64), through forward
      hooks on q_proj (a per-position scalar commutes with the rotation).
  {"mode": "save", "config": {LlamaConfig kwargs}, "seed": n, "dtype": "float32"|"bfloat16",
   "max_shard_size": "20KB" (optional), "folder": F, "tokens": [[ids]], "out": FILE}
      Builds a random HF model, saves it with save_pretrained (sharded when max_shard_size is
      given), reloads it and writes FILE: "logits" (float32 load), "logits_native" (loaded in dtype).
"""
import json
import math
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()
torch.use_deterministic_algorithms(True)


def add_query_scale_hooks(model, context, skip_layers, seq_len):
    pos = torch.arange(seq_len, dtype=torch.float64)
    scale = torch.clamp(torch.log(pos + 1.0) / math.log(context), min=1.0).to(torch.float32)
    for index, layer in enumerate(model.model.layers):
        if index >= skip_layers:
            layer.self_attn.q_proj.register_forward_hook(lambda mod, inp, out: out * scale[None, :, None])


def run(job):
    model = LlamaForCausalLM.from_pretrained(job["folder"], dtype=torch.float32,
                                             attn_implementation=job.get("attn", "eager"))
    model.train(False)
    ids = torch.tensor(job["tokens"], dtype=torch.int64)
    if "query_scale" in job:
        qs = job["query_scale"]
        add_query_scale_hooks(model, qs["context"], qs["skip_layers"], ids.shape[1])
    out = model(input_ids=ids, labels=ids)
    out.loss.backward()
    params = dict(model.named_parameters())
    tensors = {"logits": out.logits.detach().float().contiguous(), "loss": out.loss.detach().reshape(1)}
    for name in job.get("grads", []):
        tensors["grad." + name] = params[name].grad.detach().contiguous()
    metadata = {
        "rope_parameters": json.dumps(model.config.rope_parameters),
        "max_position_embeddings": json.dumps(model.config.max_position_embeddings),
    }
    save_file(tensors, job["out"], metadata=metadata)


def save(job):
    torch.manual_seed(job["seed"])
    dtype = getattr(torch, job["dtype"])
    model = LlamaForCausalLM(LlamaConfig(**job["config"])).to(dtype)
    kwargs = {"max_shard_size": job["max_shard_size"]} if "max_shard_size" in job else {}
    model.save_pretrained(job["folder"], **kwargs)
    ids = torch.tensor(job["tokens"], dtype=torch.int64)
    tensors = {}
    for key, load_dtype in (("logits", torch.float32), ("logits_native", dtype)):
        reloaded = LlamaForCausalLM.from_pretrained(job["folder"], dtype=load_dtype, attn_implementation="eager")
        with torch.no_grad():
            tensors[key] = reloaded(input_ids=ids).logits.float().contiguous()
    save_file(tensors, job["out"])


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    for job in jobs:
        {"run": run, "save": save}[job["mode"]](job)
    print(f"oracle: {len(jobs)} jobs done")


if __name__ == "__main__":
    main()
