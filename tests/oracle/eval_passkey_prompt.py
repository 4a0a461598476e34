#!/usr/bin/env python3
"""The passkey prompt of scripts/passkey_prompt.py as the oracle for ctxext's C++ prompt builder.

Usage: eval_passkey_prompt.py CASES.json OUT.json [TOKENIZER]
CASES.json: {"prompts": [[key, n_fillers, depth]], "lengths": [target tokens]}
OUT.json: {"prompts": [text], "max_fillers": [n for each length, budget = length - 1 (BOS)]}
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import passkey_prompt  # noqa: E402
import sentencepiece as spm  # noqa: E402


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    sp = spm.SentencePieceProcessor(model_file=sys.argv[3] if len(sys.argv) > 3 else "data/tokenizer.model")
    counts = passkey_prompt.part_token_counts(sp)
    out = {"prompts": [passkey_prompt.build_prompt(k, n, d) for k, n, d in cases["prompts"]],
           "max_fillers": [passkey_prompt.max_fillers(counts, length - 1) for length in cases["lengths"]]}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
