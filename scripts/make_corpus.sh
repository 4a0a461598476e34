#!/usr/bin/env bash
# Builds the embedded default's public-domain English corpus from Debian's bible-kjv-text package
# (King James Version, 1611; copyright expired, see data/README.md) and writes, deterministically:
#   data/corpus/kjv_train.jsonl    {"id": book, "text": ...} one document per training book
#   data/corpus/kjv_heldout.jsonl  the same for the held-out books (every 8th book, canonical order)
#   data/samples/tiny_chat.jsonl   a dozen ShareGPT conversations quoting training books
# Text: verse numbers and chapter headings dropped, one verse per line, a blank line between
# chapters, runs of spaces collapsed to one. Usage: ./scripts/make_corpus.sh  (no arguments)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bible >/dev/null || [ ! -f /usr/lib/bible.data ]; then
  echo "make_corpus: installing Debian packages bible-kjv-text bible-kjv"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq bible-kjv-text bible-kjv >/dev/null
fi

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
# The whole text, one verse per line ("  N text"), a "Book C" heading before each chapter.
bible -l1000000 "Gen1:1-Rev22:21" > "$raw"

mkdir -p data/corpus data/samples
python3 - "$raw" <<'EOF'
import json, re, sys

books = []  # [(name, [[verse, ...] per chapter])]
for line in open(sys.argv[1], encoding="ascii"):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    verse = re.match(r"^\s+\d+ (.*)$", line)
    if verse:
        books[-1][1][-1].append(re.sub(r" +", " ", verse.group(1).strip()))
        continue
    heading = re.match(r"^(.+) (\d+)$", line)
    if not heading:
        sys.exit(f"make_corpus: unexpected line in bible output: {line!r}")
    name = heading.group(1)
    if not books or books[-1][0] != name:
        books.append((name, []))
    books[-1][1].append([])

if len(books) != 66:
    sys.exit(f"make_corpus: expected 66 books, found {len(books)}")

def text_of(chapters):
    return "\n\n".join("\n".join(verses) for verses in chapters)

def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

heldout = [b for i, b in enumerate(books) if i % 8 == 7]
train = [b for i, b in enumerate(books) if i % 8 != 7]
write_jsonl("data/corpus/kjv_train.jsonl", [{"id": n, "text": text_of(c)} for n, c in train])
write_jsonl("data/corpus/kjv_heldout.jsonl", [{"id": n, "text": text_of(c)} for n, c in heldout])

# Tiny chat set: each conversation asks for passages of a training book and answers with the text.
by_name = dict(train)
def passage(book, chapter, first, last):
    return " ".join(by_name[book][chapter - 1][first - 1:last])

system = "You answer with the exact words of the King James Version."
specs = [  # (book, [(chapter, first verse, last verse), ...] one per turn, with system prompt?)
    ("Genesis", [(1, 1, 5)], True), ("Exodus", [(20, 1, 6)], False),
    ("Psalms", [(23, 1, 6)], True), ("Proverbs", [(3, 1, 4), (3, 5, 8)], False),
    ("Ecclesiastes", [(3, 1, 8)], True), ("Isaiah", [(40, 1, 5)], False),
    ("Acts", [(2, 1, 4), (17, 24, 28)], True), ("Mark", [(4, 3, 9)], False),
    ("Luke", [(2, 8, 14)], False), ("John", [(1, 1, 5), (1, 6, 9), (1, 10, 14)], True),
    ("Romans", [(8, 35, 39)], False), ("1 Corinthians", [(13, 1, 7)], True),
]
rows = []
for n, (book, turns, with_system) in enumerate(specs):
    conv = [{"from": "system", "value": system}] if with_system else []
    for chapter, first, last in turns:
        conv.append({"from": "human", "value": f"Recite {book} {chapter}:{first}-{last}."})
        conv.append({"from": "gpt", "value": passage(book, chapter, first, last)})
    rows.append({"id": f"kjv-chat-{n:02d}", "conversations": conv})
write_jsonl("data/samples/tiny_chat.jsonl", rows)
print(f"make_corpus: {len(train)} training books, {len(heldout)} held-out books "
      f"({', '.join(n for n, _ in heldout)}), {len(rows)} chat samples")
EOF
