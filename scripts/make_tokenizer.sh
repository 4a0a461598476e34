#!/usr/bin/env bash
# Trains the embedded default's tokenizer, data/tokenizer.model: a sentencepiece BPE model with
# LLaMA's conventions (unk=0, bos=1, eos=2, no pad; byte fallback; digits split; identity
# normalisation; dummy prefix on; whitespace kept) and a 4000-piece vocabulary, trained on the
# verses of data/corpus/kjv_train.jsonl (run ./scripts/make_corpus.sh first). One thread, no
# sampling and no shuffling, so the same corpus gives the same bytes.
# Usage: ./scripts/make_tokenizer.sh  (no arguments)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v spm_train >/dev/null || { echo "make_tokenizer: spm_train missing (Debian package 'sentencepiece')"; exit 1; }
[ -f data/corpus/kjv_train.jsonl ] || { echo "make_tokenizer: data/corpus/kjv_train.jsonl missing; run ./scripts/make_corpus.sh"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One verse per line: the training sentences.
python3 - data/corpus/kjv_train.jsonl "$work/verses.txt" <<'EOF'
import json, sys
with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as out:
    for line in open(sys.argv[1], encoding="utf-8"):
        for verse in json.loads(line)["text"].split("\n"):
            if verse:
                out.write(verse + "\n")
EOF

# Relative names: the trainer spec stored inside the model records them.
(cd "$work" && spm_train --input=verses.txt --model_prefix=tokenizer \
  --model_type=bpe --vocab_size=4000 --character_coverage=1.0 \
  --byte_fallback=true --split_digits=true --allow_whitespace_only_pieces=true \
  --normalization_rule_name=identity --remove_extra_whitespaces=false --add_dummy_prefix=true \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  --input_sentence_size=0 --shuffle_input_sentence=false --num_threads=1 \
  --max_sentence_length=16384 --minloglevel=1 > spm_train.log 2>&1) \
  || { cat "$work/spm_train.log"; exit 1; }

mkdir -p data
cp "$work/tokenizer.model" data/tokenizer.model
echo "make_tokenizer: wrote data/tokenizer.model ($(wc -c < data/tokenizer.model) bytes, sha256 $(sha256sum data/tokenizer.model | cut -c1-16))"
