#!/usr/bin/env python3
"""Fine-tuning set for context extension: long ShareGPT conversations whose answers are in the context.

Writes data/finetune/long_conversations.jsonl, one
  {"id": "ft-<n>-<task>", "conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}, ...]}
per line, built only from the held-out book Jeremiah (data/corpus/kjv_heldout.jsonl; never in the
pretraining data, and excluded from data/pretrain/valid.jsonl). Each conversation is 900-1000 tokens
(target drawn per conversation) when rendered with the LLaMA-2 chat template exactly as
src/data/chat_template.cpp does it (per turn: BOS + encode("[INST] " + user + " [/INST] " + answer + " ")
+ EOS), about 4x the embedded model's native context of 256, and never more than --max-tokens (1020).

Tasks (counts are flags; the file order is shuffled so that any first-N subset mixes them):
  passkey_filler  the passkey prompt of scripts/passkey_prompt.py, answer "{key}"
  passkey_prose   the same prompt with the filler replaced by held-out verses
  passkey_mixed   filler repetitions and held-out verses mixed at random
  recall          a passage with one verse marked <<...>>; answer: that verse
  count           a passage and "How many times does the word "X" occur ...?"; answer with the
                  true count (whole words = maximal runs of ASCII letters, case-insensitive)
  multi_turn      a passkey passage that also has a marked verse: 1) the pass key, 2) the marked
                  verse, 3) (half of them) a word count over the first message
Needle and marked-verse depths are stratified over [0, 1] within each task: the k-th of n gets
depth (k + u) / n, u uniform in [0, 1).

Deterministic: only random.Random(seed). Usage:
  .venv/bin/python scripts/make_finetune_data.py [--seed 4321] [--passkey 42 --recall 34 --count 34 --multi-turn 18]
"""
import argparse
import json
import os
import random
import re
import sys

import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import passkey_prompt as pk  # noqa: E402
from make_pretrain_data import FINETUNE_BOOKS, Verses, load_books, write_jsonl  # noqa: E402

RECALL_INTRO = "Read the text below and remember the sentence marked with << and >>.\n\n"
RECALL_QUESTION = "\n\nRepeat the sentence marked with << and >> exactly."
COUNT_QUESTION = ('\n\nHow many times does the word "{word}" occur in the text above? '
                  "Count whole words, ignoring case.")
COUNT_ANSWER = 'The word "{word}" occurs {n} {times}.'


def count_word(text, word):
    return sum(1 for w in re.findall(r"[A-Za-z]+", text) if w.lower() == word.lower())


class Builder:
    def __init__(self, sp, verses, rng, min_tokens, max_tokens):
        self.sp, self.v, self.rng = sp, verses, rng
        self.min_tokens, self.max_tokens = min_tokens, max_tokens
        self.counts = pk.part_token_counts(sp)
        self.cum = [0]
        for t in verses.tokens:
            self.cum.append(self.cum[-1] + t)

    def rendered_tokens(self, turns):
        """Token count under the LLaMA-2 chat template (src/data/chat_template.cpp)."""
        total = 0
        for user, answer in zip(turns[0::2], turns[1::2]):
            total += 2 + len(self.sp.encode("[INST] " + user.strip() + " [/INST] " + answer.strip() + " "))
        return total

    def prose(self, budget):
        """Consecutive verses (" " + verse units) worth about `budget` tokens from a random start."""
        last_start = max(i for i in range(len(self.v)) if self.cum[-1] - self.cum[i] >= budget)
        i = self.rng.randint(0, last_start)
        units = []
        while self.cum[i] - self.cum[i - len(units)] < budget:
            units.append(" " + self.v.text[i])
            i += 1
        return units

    def fit(self, render, units):
        """The longest prefix units[:m] with render(units[:m]) at most the conversation's target
        length (drawn in [min_tokens, 1000]); if that prefix falls short of min_tokens, one more
        unit as long as it stays within max_tokens."""
        target = self.rng.randint(self.min_tokens, min(1000, self.max_tokens))
        length = lambda m: self.rendered_tokens(render(units[:m]))
        m = len(units)
        n = length(m)
        while m > 1 and n > target:
            m -= max(1, (n - target) // 60)
            n = length(m)
        if n < self.min_tokens and m < len(units) and length(m + 1) <= self.max_tokens:
            m += 1
            n = length(m)
        if not self.min_tokens <= n <= self.max_tokens:
            sys.exit(f"make_finetune_data: conversation of {n} tokens outside [{self.min_tokens}, {self.max_tokens}]")
        return render(units[:m])

    # --- tasks ---------------------------------------------------------------------------------

    def passkey(self, depth, variant):
        key = pk.random_key(self.rng)
        if variant == "filler":
            units = [pk.FILLER] * 40
        else:
            verses = self.prose(1100)
            if variant == "prose":
                units = verses
            else:
                units = []
                while verses and len(units) < 60:
                    units.append(pk.FILLER if self.rng.random() < 0.5 else verses.pop(0))
        render = lambda u: [pk.build_prompt_from_units(key, u, depth), str(key)]
        return self.fit(render, units), {"key": key, "depth": depth}

    def marked(self, units, depth):
        """Units with the verse at `depth` wrapped in << >> (never an empty choice)."""
        k = min(len(units) - 1, pk.needle_index(depth, len(units) - 1))
        verse = units[k].strip()
        return units[:k] + [" <<" + verse + ">>"] + units[k + 1:], verse

    def recall(self, depth):
        def render(u):
            marked, verse = self.marked(u, depth)
            return [RECALL_INTRO + "".join(marked).strip() + RECALL_QUESTION, verse]
        return self.fit(render, self.prose(1000)), {"depth": depth}

    def pick_word(self, text):
        """A word of 4+ letters from `text`, preferably one occurring 2-12 times, spelled as at
        its first occurrence."""
        counts, spelling = {}, {}
        for w in re.findall(r"[A-Za-z]+", text):
            if len(w) >= 4:
                counts[w.lower()] = counts.get(w.lower(), 0) + 1
                spelling.setdefault(w.lower(), w)
        words = sorted(counts)
        preferred = [w for w in words if 2 <= counts[w] <= 12]
        return spelling[self.rng.choice(preferred or words)]

    def count_turn(self, text, word, where):
        n = count_word(text, word)
        return ([COUNT_QUESTION.format(word=word).replace("the text above", where).strip(),
                 COUNT_ANSWER.format(word=word, n=n, times="time" if n == 1 else "times")], n)

    def count(self):
        state = {}

        def render(u):
            text = "".join(u).strip()
            if "word" not in state:  # chosen once, in the first half (cuts are at the end)
                state["word"] = self.pick_word("".join(u[:len(u) // 2]))
            word = state["word"]
            n = count_word(text, word)
            return [text + COUNT_QUESTION.format(word=word),
                    COUNT_ANSWER.format(word=word, n=n, times="time" if n == 1 else "times")]
        turns = self.fit(render, self.prose(1000))
        return turns, {"word": state["word"], "count": count_word(turns[0], state["word"])}

    def multi_turn(self, depth):
        key = pk.random_key(self.rng)
        marked_depth = self.rng.random()
        with_count = self.rng.random() < 0.5
        state = {}

        def render(u):
            marked, verse = self.marked(u, marked_depth)
            first = pk.build_prompt_from_units(key, marked, depth)
            turns = [first, str(key), RECALL_QUESTION.strip(), verse]
            if with_count:
                if "word" not in state:
                    state["word"] = self.pick_word("".join(u[:len(u) // 2]))
                turns += self.count_turn(first, state["word"], "my first message")[0]
            return turns
        turns = self.fit(render, self.prose(1000))
        meta = {"key": key, "depth": depth, "marked_depth": marked_depth}
        if with_count:
            meta["word"] = state["word"]
        return turns, meta


def conversation(cid, turns):
    roles = ["human", "gpt"] * (len(turns) // 2)
    return {"id": cid, "conversations": [{"from": r, "value": t} for r, t in zip(roles, turns)]}


def main():
    ap = argparse.ArgumentParser(description="Long fine-tuning conversations from held-out text.")
    ap.add_argument("--tokenizer", default="data/tokenizer.model")
    ap.add_argument("--heldout-corpus", default="data/corpus/kjv_heldout.jsonl")
    ap.add_argument("--out", default="data/finetune/long_conversations.jsonl")
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--passkey", type=int, default=42, help="split evenly: filler, prose, mixed")
    ap.add_argument("--recall", type=int, default=34)
    ap.add_argument("--count", type=int, default=34)
    ap.add_argument("--multi-turn", type=int, default=18)
    ap.add_argument("--min-tokens", type=int, default=900)
    ap.add_argument("--max-tokens", type=int, default=1020)
    args = ap.parse_args()

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    rng = random.Random(args.seed)
    b = Builder(sp, Verses(load_books(args.heldout_corpus, include=FINETUNE_BOOKS), sp), rng,
                args.min_tokens, args.max_tokens)

    def depths(n):
        d = [(k + rng.random()) / n for k in range(n)]
        rng.shuffle(d)
        return d

    variants = ["filler", "prose", "mixed"]
    jobs = [("passkey_" + variants[k % 3], lambda d, v=variants[k % 3]: b.passkey(d, v))
            for k in range(args.passkey)]
    jobs += [("recall", b.recall)] * args.recall
    jobs += [("count", lambda d: b.count())] * args.count
    jobs += [("multi_turn", b.multi_turn)] * args.multi_turn
    by_task = {}
    for task, _ in jobs:
        by_task[task] = by_task.get(task, 0) + 1
    task_depths = {task: depths(n) for task, n in sorted(by_task.items())}
    rng.shuffle(jobs)

    rows, stats = [], []
    for i, (task, make) in enumerate(jobs):
        turns, meta = make(task_depths[task].pop())
        rows.append(conversation(f"ft-{i:03d}-{task}", turns))
        stats.append((task, b.rendered_tokens(turns), meta))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_jsonl(args.out, rows)

    lengths = [n for _, n, _ in stats]
    print(f"make_finetune_data: {args.out}: {len(rows)} conversations, {sum(lengths)} tokens rendered "
          f"(mean {sum(lengths) / len(rows):.1f}, min {min(lengths)}, max {max(lengths)}), "
          f"{os.path.getsize(args.out)} bytes")
    for task in sorted(by_task):
        n = [x for t, x, _ in stats if t == task]
        d = sorted(round(m["depth"], 2) for t, _, m in stats if t == task and "depth" in m)
        print(f"  {task:15s} {len(n):3d} conversations, tokens mean {sum(n) / len(n):.1f} "
              f"min {min(n)} max {max(n)}" + (f", depths {d[0]}..{d[-1]}" if d else ""))


if __name__ == "__main__":
    main()
