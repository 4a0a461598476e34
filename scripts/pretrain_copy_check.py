#!/usr/bin/env python3
"""Does a pretrained tiny model copy from its context? The check used while pretraining data/tiny-base.

Usage: .venv/bin/python scripts/pretrain_copy_check.py MODEL [--config-from DIR] [--documents FILE]
MODEL: an HF folder, or a training checkpoint (runs/.../checkpoints/step-N, which has no config.json:
give --config-from with a folder that has one, e.g. the run's first-stage export).

Teacher-forced, with transformers on the CPU, over the documents of FILE (default
data/pretrain/valid.jsonl; ids "<split>-<n>-<kind>" as scripts/make_pretrain_data.py writes them):
  passkey, passkey_prose  the document up to its last " The pass key is", then the answer " {key}":
                          a document counts when every answer token is the argmax (what greedy decoding
                          would produce), and per-position accuracy over the answer tokens is printed
  repeat, digits          argmax accuracy over the second half of the document's tokens (the copies)
"""
import argparse
import json
import os
import shutil
import tempfile
from collections import defaultdict

import sentencepiece as spm
import torch
from transformers import LlamaForCausalLM


def load(model_dir, config_from):
    if os.path.isfile(os.path.join(model_dir, "config.json")):
        return LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    if not config_from:
        raise SystemExit(f"{model_dir}: no config.json; give --config-from DIR")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(config_from, "config.json"), tmp)
        os.symlink(os.path.abspath(os.path.join(model_dir, "model.safetensors")), os.path.join(tmp, "model.safetensors"))
        return LlamaForCausalLM.from_pretrained(tmp, dtype=torch.float32).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--config-from", default="")
    ap.add_argument("--documents", default="data/pretrain/valid.jsonl")
    ap.add_argument("--tokenizer", default="data/tokenizer.model")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load(args.model, args.config_from)
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    passkey = defaultdict(lambda: [0, 0])      # kind -> [documents right, documents]
    position = defaultdict(lambda: [0, 0])     # answer position -> [right, total]
    copies = defaultdict(lambda: [0, 0])       # kind -> [tokens right, tokens]
    for line in open(args.documents, encoding="utf-8"):
        doc = json.loads(line)
        kind = doc["id"].split("-", 2)[2]
        text = doc["text"]
        if kind in ("passkey", "passkey_prose"):
            cut = text.rfind(" The pass key is") + len(" The pass key is")
            prompt = [1] + sp.encode(text[:cut])
            answer = sp.encode(text[:cut] + text[cut:].rstrip("."))[len(prompt) - 1:]
            with torch.no_grad():
                logits = model(torch.tensor([prompt + answer])).logits[0]
            pred = logits[len(prompt) - 1:len(prompt) - 1 + len(answer)].argmax(-1).tolist()
            passkey[kind][0] += pred == answer
            passkey[kind][1] += 1
            for i, (p, a) in enumerate(zip(pred, answer)):
                position[i][0] += p == a
                position[i][1] += 1
        elif kind in ("repeat", "digits"):
            ids = torch.tensor([[1] + sp.encode(text)])
            with torch.no_grad():
                pred = model(ids).logits[0, :-1].argmax(-1)
            half = ids.shape[1] // 2
            copies[kind][0] += (pred[half:] == ids[0, 1:][half:]).sum().item()
            copies[kind][1] += ids.shape[1] - 1 - half
    for kind, (right, n) in sorted(passkey.items()):
        print(f"{kind}: {right}/{n} documents with the whole answer right")
    print("answer position accuracy: " + ", ".join(f"{i}: {r}/{n}" for i, (r, n) in sorted(position.items())))
    for kind, (right, n) in sorted(copies.items()):
        print(f"{kind}: {right / n:.3f} of second-half tokens right ({n} tokens)")


if __name__ == "__main__":
    main()
