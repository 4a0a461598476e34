"""Oracle for LongBench prompts: the steps of THUDM/LongBench pred.py with a Hugging Face tokenizer.

Usage: longbench_prompt.py TOKENIZER_MODEL CASES_JSON
CASES_JSON: [{"template", "sample": {"context", "input", ...}, "max_length", "chat"}, ...]. For each
case: prompt = template.format(**sample); ids = tokenizer(prompt).input_ids; if longer than
max_length keep decode(ids[:h]) + decode(ids[-h:]) (skip_special_tokens, h = int(max_length / 2));
with chat, "[INST]{prompt}[/INST]"; the final ids = tokenizer(prompt).input_ids. The tokenizer is
transformers' LlamaTokenizer built on TOKENIZER_MODEL with legacy=True (it adds BOS, as the LlamaTokenizer
LongBench loads does).
Prints a JSON list of id lists.
"""
import json
import sys

from transformers import LlamaTokenizer
from transformers.tokenization_utils_sentencepiece import SentencePieceExtractor


def main():
    model, cases = sys.argv[1], sys.argv[2]
    vocab, _, merges = SentencePieceExtractor(model).extract()
    tok = LlamaTokenizer(vocab=vocab, merges=merges, legacy=True, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                         add_bos_token=True)
    out = []
    for case in json.load(open(cases, encoding="utf-8")):
        prompt = case["template"].format(**case["sample"])
        ids = tok(prompt, truncation=False).input_ids
        max_length = case["max_length"]
        if len(ids) > max_length:
            half = int(max_length / 2)
            prompt = tok.decode(ids[:half], skip_special_tokens=True) + tok.decode(ids[-half:], skip_special_tokens=True)
        if case["chat"]:
            prompt = f"[INST]{prompt}[/INST]"
        out.append(tok(prompt, truncation=False).input_ids)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
