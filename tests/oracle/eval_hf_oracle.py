#!/usr/bin/env python3
"""Hugging Face transformers as the oracle for ctxext's evaluations (tests/eval).

Usage: eval_hf_oracle.py JOBS.json OUT.json

JOBS.json is a list of jobs, all run in this one process; each loads its folder afresh with stock
LlamaForCausalLM in float32 (eager attention), so no job sees another's dynamic-RoPE state.
  {"mode": "sliding_ppl", "folder": F, "tokens": [ids], "window": L, "stride": S}
      The strided-perplexity loop of the HF docs ("Perplexity of fixed-length models"): windows
      [begin, begin + L) every S tokens, the last end - prev_end labels kept, the rest -100; the NLL
      of every kept label (after HF's internal shift) summed, and counted exactly.
      -> {"nll_sum": float, "count": int, "windows": int}
  {"mode": "greedy", "folder": F, "prompt": [ids], "new_tokens": n}
      Prefill + n - 1 single-token steps with a DynamicCache (what generate() does, greedy).
      -> {"tokens": [ids], "logits": [[float]]}  (the logits each token was chosen from)
OUT.json: the list of results, in job order.
"""
import json
import sys

import torch
import torch.nn.functional as F
from transformers import LlamaForCausalLM
from transformers.cache_utils import DynamicCache
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()


def load(folder):
    model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.train(False)
    return model


@torch.no_grad()
def sliding_ppl(job):
    model = load(job["folder"])
    ids = torch.tensor([job["tokens"]], dtype=torch.int64)
    seq_len, window, stride = ids.size(1), job["window"], job["stride"]
    nll_sum, count, windows, prev_end = 0.0, 0, 0, 0
    for begin in range(0, seq_len, stride):
        end = min(begin + window, seq_len)
        trg_len = end - prev_end
        input_ids = ids[:, begin:end]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        logits = model(input_ids=input_ids).logits
        labels = target_ids[:, 1:]
        losses = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)).double(), labels.reshape(-1),
                                 ignore_index=-100, reduction="sum")
        nll_sum += losses.item()
        count += int((labels != -100).sum().item())
        windows += 1
        prev_end = end
        if end == seq_len:
            break
    return {"nll_sum": nll_sum, "count": count, "windows": windows}


@torch.no_grad()
def greedy(job):
    model = load(job["folder"])
    cache = DynamicCache()
    input_ids = torch.tensor([job["prompt"]], dtype=torch.int64)
    position = 0
    tokens, logits_out = [], []
    for _ in range(job["new_tokens"]):
        n = input_ids.size(1)
        positions = torch.arange(position, position + n).unsqueeze(0)
        out = model(input_ids=input_ids, past_key_values=cache, use_cache=True, position_ids=positions)
        cache = out.past_key_values
        position += n
        last = out.logits[0, -1].float()
        nxt = int(last.argmax().item())
        tokens.append(nxt)
        logits_out.append(last.tolist())
        input_ids = torch.tensor([[nxt]], dtype=torch.int64)
    return {"tokens": tokens, "logits": logits_out}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    results = [{"sliding_ppl": sliding_ppl, "greedy": greedy}[job["mode"]](job) for job in jobs]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
