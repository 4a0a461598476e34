#!/usr/bin/env python3
"""The passkey-retrieval prompt shared by the data generators and the C++ evaluator.

The text follows the passkey test of Landmark Attention as used by the LongLoRA and "Extending LLMs'
Context Window with 100 Samples" evaluations, in this project's exact form (the C++ evaluator builds
the identical string):

    prompt = PREFIX + FILLER * n_before + needle(key) + FILLER * n_after + QUESTION
    answer = " {key}"                      (the expected continuation of the prompt)

    n_before = min(n_fillers, floor(depth * n_fillers + 0.5))   depth in [0, 1], IEEE double
    n_after  = n_fillers - n_before

Every part after PREFIX starts with one space and nothing else separates the parts, so the prompt is
a single line. `key` is a 5-digit integer, KEY_MIN..KEY_MAX. (Landmark's original script joins the
parts with "\\n" and cuts the filler at a character count; here the filler is repeated whole and
the length is set by the number of repetitions.)

With a sentencepiece tokenizer that splits at whitespace (the embedded data/tokenizer.model, and
LLaMA's), the token count of the prompt is the sum of the parts' counts, each part counted as the
tokens it adds after the text before it (see part_token_counts).

Run it to print the parts' token counts for a tokenizer:
    .venv/bin/python scripts/passkey_prompt.py [--tokenizer data/tokenizer.model]
"""
import argparse
import math

PREFIX = ("There is an important info hidden inside a lot of irrelevant text. "
          "Find it and memorize them. I will quiz you about the important information there.")
FILLER = " The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
NEEDLE = " The pass key is {key}. Remember it. {key} is the pass key."
QUESTION = " What is the pass key? The pass key is"
ANSWER = " {key}"
KEY_MIN, KEY_MAX = 10000, 99999


def needle(key):
    return NEEDLE.format(key=key)


def answer(key):
    return ANSWER.format(key=key)


def random_key(rng):
    """A passkey drawn with random.Random `rng`."""
    return rng.randint(KEY_MIN, KEY_MAX)


def needle_index(depth, n_units):
    """Number of filler units before the needle for `depth` in [0, 1]."""
    if not 0.0 <= depth <= 1.0:
        raise ValueError(f"depth must be in [0, 1], got {depth}")
    return min(n_units, int(math.floor(depth * n_units + 0.5)))


def build_prompt_from_units(key, units, depth):
    """PREFIX + units before + needle + units after + QUESTION; every unit must start with a space.

    With units = [FILLER] * n this is the standard prompt; the fine-tuning data also uses held-out
    prose verses (" " + verse) as units, alone or mixed with FILLER.
    """
    for unit in units:
        if not unit.startswith(" "):
            raise ValueError(f"filler unit must start with a space: {unit[:40]!r}")
    k = needle_index(depth, len(units))
    return PREFIX + "".join(units[:k]) + needle(key) + "".join(units[k:]) + QUESTION


def build_prompt(key, n_fillers, depth):
    """The standard prompt: n_fillers repetitions of FILLER with the needle at `depth`."""
    return build_prompt_from_units(key, [FILLER] * n_fillers, depth)


def part_token_counts(sp):
    """Tokens each part adds (sentencepiece processor `sp`, no BOS/EOS): prefix, filler, needle,
    question, answer. The needle and answer are measured with key 12345 (all keys are 5 digits)."""
    base = len(sp.encode(PREFIX))
    added = lambda text: len(sp.encode(PREFIX + text)) - base
    return {"prefix": base, "filler": added(FILLER), "needle": added(needle(12345)),
            "question": added(QUESTION), "answer": added(answer(12345))}


def prompt_tokens(counts, n_fillers):
    """Prompt length in tokens (no BOS) for n_fillers repetitions, from part_token_counts()."""
    return counts["prefix"] + n_fillers * counts["filler"] + counts["needle"] + counts["question"]


def max_fillers(counts, budget):
    """Largest filler count whose prompt + answer fits `budget` tokens (no BOS)."""
    fixed = prompt_tokens(counts, 0) + counts["answer"]
    return max(0, (budget - fixed) // counts["filler"])


def main():
    import sentencepiece as spm

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", default="data/tokenizer.model")
    args = parser.parse_args()
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    counts = part_token_counts(sp)
    print(" ".join(f"{k}={v}" for k, v in counts.items()), "(tokens, no BOS)")
    print("context  n_fillers  prompt+answer tokens with BOS (computed / measured)")
    for context in (256, 512, 1024, 2048, 4096, 8192, 16384):
        n = max_fillers(counts, context - 1)
        measured = 1 + len(sp.encode(build_prompt(12345, n, 0.5) + answer(12345)))
        print(f"{context:7d}  {n:9d}  {1 + prompt_tokens(counts, n) + counts['answer']:6d} / {measured:6d}")


if __name__ == "__main__":
    main()
