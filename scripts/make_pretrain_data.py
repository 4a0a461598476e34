#!/usr/bin/env python3
"""Pretraining data for the embedded default's tiny LLaMA (native context 256 tokens).

Writes data/pretrain/train.jsonl (from data/corpus/kjv_train.jsonl) and data/pretrain/valid.jsonl
(from the held-out books of data/corpus/kjv_heldout.jsonl except Jeremiah, which is reserved for the
fine-tuning set), one {"id": "<split>-<n>-<kind>", "text": ...} document per line. The trainer adds
BOS/EOS and truncates at 256 tokens, so every document is at most --max-tokens (254) tokens.

Document kinds (fractions of the document count are flags; plain takes the remainder):
  plain          a passage of consecutive verses, 200-250 tokens, newline between verses
  passkey        the passkey prompt of scripts/passkey_prompt.py with 1-6 filler repetitions, a
                 uniform depth and key, followed by " {key}."
  passkey_prose  the same prompt with the filler replaced by corpus verses (half of them) or by
                 verses and filler repetitions mixed at random (the other half)
  secret_word    verses with " The secret word is X." inserted at a uniform depth, ending with
                 " The secret word is X." (X: an invented word or a corpus word)
  digits         digit-copy drills: "Repeat each number. 4821 is 4821. ..." (half) or a table
                 "The number of Moab is 99120. ..." followed by 1-3 look-ups (other half)
  repeat         "Copy the words. w1 ... wk. Again: w1 ... wk. ..." with random corpus words, or the
                 same with random numbers (default fraction 0; the second pretraining stage uses it,
                 see data/README.md)

Deterministic: only random.Random(seed); the same inputs and flags give the same bytes.
Usage: .venv/bin/python scripts/make_pretrain_data.py [--train-docs 10000] [--seed 1234] ...
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

FINETUNE_BOOKS = ("Jeremiah",)  # held-out books reserved for data/finetune (never in valid.jsonl)


# ---------------------------------------------------------------------------------------------
# Corpus

def load_books(path, include=None, exclude=()):
    """[(name, [[verse, ...] per chapter])] from a corpus .jsonl, in file order."""
    books = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["id"] in exclude or (include is not None and row["id"] not in include):
                continue
            chapters = [[v for v in chapter.split("\n") if v] for chapter in row["text"].split("\n\n")]
            books.append((row["id"], chapters))
    if not books:
        sys.exit(f"{path}: no books selected")
    return books


class Verses:
    """All verses of some books in order, with token counts and chapter boundaries."""

    def __init__(self, books, sp):
        self.text, self.chapter_start = [], []
        for _, chapters in books:
            for chapter in chapters:
                for i, verse in enumerate(chapter):
                    self.text.append(verse)
                    self.chapter_start.append(i == 0)
        # A verse starting after a space adds exactly the tokens of the verse encoded alone.
        self.tokens = [len(ids) for ids in sp.encode(self.text)]

    def __len__(self):
        return len(self.text)

    def window(self, rng, budget):
        """Consecutive verses from a random start whose token counts sum to at most `budget`
        (at least one verse, cut to fit by words if a single verse is longer)."""
        start = rng.randrange(len(self))
        out, used = [], 0
        i = start
        while i < len(self) and used + self.tokens[i] <= budget:
            out.append(self.text[i])
            used += self.tokens[i]
            i += 1
        if not out:
            words = self.text[start].split(" ")
            out = [" ".join(words[:max(1, budget // 3)])]
        return out


def word_lists(verses):
    """(common lowercase words, proper names): sorted lists of distinct alphabetic words."""
    lower, capital = set(), set()
    for verse in verses.text:
        for word in re.findall(r"[A-Za-z]+", verse):
            (lower if word.islower() else capital).add(word)
    words = sorted(w for w in lower if 4 <= len(w) <= 10)
    names = sorted(w for w in capital if w[0].isupper() and w[1:].islower() and 4 <= len(w) <= 10
                   and w.lower() not in lower)
    return words, names


# ---------------------------------------------------------------------------------------------
# Document kinds

class Generator:
    def __init__(self, sp, verses, rng, max_tokens):
        self.sp, self.verses, self.rng, self.max_tokens = sp, verses, rng, max_tokens
        self.counts = pk.part_token_counts(sp)
        self.words, self.names = word_lists(verses)
        self.chunks = self._plain_chunks()
        self.chunk_order = []

    def ntok(self, text):
        return len(self.sp.encode(text))

    def _plain_chunks(self):
        """The corpus cut once, in order, into passages of 200-250 tokens (target drawn per chunk)."""
        v, chunks, i = self.verses, [], 0
        while i < len(v):
            target = self.rng.randint(200, 250)
            lines, used = [], 0
            while i < len(v) and (not lines or used + v.tokens[i] + 1 <= target):
                if lines and v.chapter_start[i]:
                    lines.append("")
                lines.append(v.text[i])
                used += v.tokens[i] + 1
                i += 1
            text = "\n".join(lines)
            while self.ntok(text) > min(250, self.max_tokens) and len(lines) > 1:
                lines.pop()  # a verse; then the chapter break before it, if any
                i -= 1
                if lines[-1] == "":
                    lines.pop()
                text = "\n".join(lines)
            chunks.append(text)
        return chunks

    def plain(self):
        if not self.chunk_order:  # one pass over the corpus in a fresh random order, then repeat
            self.chunk_order = list(range(len(self.chunks)))
            self.rng.shuffle(self.chunk_order)
        return self.chunks[self.chunk_order.pop()]

    def passkey(self):
        n_max = pk.max_fillers(self.counts, self.max_tokens - 1)  # -1: the final "."
        key = pk.random_key(self.rng)
        n = self.rng.randint(1, n_max)
        return pk.build_prompt(key, n, self.rng.random()) + pk.answer(key) + "."

    def passkey_prose(self):
        key = pk.random_key(self.rng)
        fixed = pk.prompt_tokens(self.counts, 0) + self.counts["answer"] + 1
        budget = self.rng.randint(40, self.max_tokens - fixed)
        verses = [" " + v for v in self.verses.window(self.rng, budget)]
        if self.rng.random() < 0.5:
            units = verses
        else:
            units, used = [], 0
            while verses:
                unit = pk.FILLER if self.rng.random() < 0.5 else verses.pop(0)
                cost = self.counts["filler"] if unit == pk.FILLER else self.ntok(unit.lstrip())
                if used + cost > budget:
                    break
                units.append(unit)
                used += cost
            units = units or [pk.FILLER]
        return pk.build_prompt_from_units(key, units, self.rng.random()) + pk.answer(key) + "."

    def secret(self):
        if self.rng.random() < 0.6:
            syllables = [self.rng.choice("bdfgklmnprstvz") + self.rng.choice("aeiou")
                         for _ in range(self.rng.randint(2, 4))]
            return "".join(syllables)
        return self.rng.choice(self.words)

    def secret_word(self):
        word = self.secret()
        sentence = f" The secret word is {word}."
        budget = self.max_tokens - 2 * self.ntok(sentence) - 2
        units = [" " + v for v in self.verses.window(self.rng, self.rng.randint(60, budget))]
        k = pk.needle_index(self.rng.random(), len(units))
        return ("".join(units[:k]) + sentence + "".join(units[k:])).lstrip() + sentence

    def number(self, lo_digits, hi_digits):
        d = self.rng.randint(lo_digits, hi_digits)
        return str(self.rng.randint(10 ** (d - 1), 10 ** d - 1))

    def digits(self):
        budget = self.rng.randint(80, self.max_tokens)
        if self.rng.random() < 0.5:
            text = "Repeat each number."
            while True:
                x = self.number(1, 7)
                longer = text + f" {x} is {x}."
                if self.ntok(longer) > budget:
                    return text if text != "Repeat each number." else longer
                text = longer
        names = self.rng.sample(self.names, 12)
        table, text = [], "Remember the numbers."
        for name in names:
            line = f" The number of {name} is {self.number(3, 6)}."
            if self.ntok(text + line) > budget - 60 and len(table) >= 2:
                break
            table.append((name, line))
            text += line
        for name, line in self.rng.sample(table, min(len(table), self.rng.randint(1, 3))):
            query = f" What is the number of {name}?" + line
            if self.ntok(text + query) > self.max_tokens:
                break
            text += query
        return text

    def repeat(self):
        """A list of random corpus words (half the documents) or random 2-6 digit numbers (the other
        half), in random order, then the same list again as often as it fits: nothing is predictable
        from language, so only copying from the context lowers the loss on the repeats, which is the
        signal an induction (retrieval) head forms from."""
        if self.rng.random() < 0.5:
            pool, draw, intro = self.words + self.names, None, "Copy the words."
        else:
            pool, draw, intro = None, lambda: self.number(2, 6), "Copy the numbers."
        budget = self.rng.randint(12, (self.max_tokens - 12) // 2)
        item = (lambda: self.rng.choice(pool)) if pool else draw
        items = [item()]
        while True:
            longer = items + [item()]
            if self.ntok(" ".join(longer)) > budget:
                break
            items = longer
        body = " ".join(items)
        text = f"{intro} {body}."
        while self.ntok(text + f" Again: {body}.") <= self.max_tokens:
            text += f" Again: {body}."
        return text


KINDS = ("plain", "passkey", "passkey_prose", "secret_word", "digits", "repeat")


def make_split(name, gen, n_docs, fractions):
    counts = {k: int(round(fractions[k] * n_docs)) for k in KINDS[1:]}
    counts["plain"] = n_docs - sum(counts.values())
    if counts["plain"] < 0:
        sys.exit("make_pretrain_data: fractions sum to more than 1")
    kinds = [k for k in KINDS for _ in range(counts[k])]
    gen.rng.shuffle(kinds)
    build = {"plain": gen.plain, "passkey": gen.passkey, "passkey_prose": gen.passkey_prose,
             "secret_word": gen.secret_word, "digits": gen.digits, "repeat": gen.repeat}
    rows = []
    for i, kind in enumerate(kinds):
        text = build[kind]()
        n = gen.ntok(text)
        if n > gen.max_tokens:
            sys.exit(f"make_pretrain_data: {name} document {i} ({kind}) has {n} > {gen.max_tokens} tokens")
        rows.append({"id": f"{name}-{i:05d}-{kind}", "text": text})
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser(description="Pretraining data for the embedded default (native context 256).")
    ap.add_argument("--tokenizer", default="data/tokenizer.model")
    ap.add_argument("--train-corpus", default="data/corpus/kjv_train.jsonl")
    ap.add_argument("--heldout-corpus", default="data/corpus/kjv_heldout.jsonl")
    ap.add_argument("--out-dir", default="data/pretrain")
    ap.add_argument("--train-docs", type=int, default=10000)
    ap.add_argument("--valid-docs", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1234, help="train split; valid uses seed + 1")
    ap.add_argument("--max-tokens", type=int, default=254, help="per document, without BOS/EOS")
    ap.add_argument("--frac-passkey", type=float, default=0.25)
    ap.add_argument("--frac-passkey-prose", type=float, default=0.10)
    ap.add_argument("--frac-secret-word", type=float, default=0.10)
    ap.add_argument("--frac-digits", type=float, default=0.10)
    ap.add_argument("--frac-repeat", type=float, default=0.0)
    args = ap.parse_args()

    fractions = {"passkey": args.frac_passkey, "passkey_prose": args.frac_passkey_prose,
                 "secret_word": args.frac_secret_word, "digits": args.frac_digits,
                 "repeat": args.frac_repeat}
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    os.makedirs(args.out_dir, exist_ok=True)
    splits = [("train", load_books(args.train_corpus), args.train_docs, args.seed),
              ("valid", load_books(args.heldout_corpus, exclude=FINETUNE_BOOKS), args.valid_docs, args.seed + 1)]
    for name, books, n_docs, seed in splits:
        gen = Generator(sp, Verses(books, sp), random.Random(seed), args.max_tokens)
        rows = make_split(name, gen, n_docs, fractions)
        path = os.path.join(args.out_dir, f"{name}.jsonl")
        write_jsonl(path, rows)
        lengths = [len(ids) for ids in sp.encode([r["text"] for r in rows])]
        print(f"make_pretrain_data: {path}: {len(rows)} documents, {sum(lengths)} tokens "
              f"(mean {sum(lengths) / len(rows):.1f}, min {min(lengths)}, max {max(lengths)}; "
              f"{len(gen.chunks)} plain chunks in the source), {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
