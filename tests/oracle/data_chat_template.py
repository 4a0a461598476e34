"""Oracle for the LLaMA-2 chat template: token ids from Hugging Face transformers.

Usage: data_chat_template.py TOKENIZER_MODEL CASES_JSONL
CASES_JSONL holds ShareGPT records ({"conversations": [{"from", "value"}]} or role/content).
Prints a JSON list with the ids of each conversation: the Llama-2 chat_template (as in
meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json) applied by two HF tokenizers built on the
same tokenizer.model, which must agree: the sentencepiece-backed one and the `tokenizers`-backed
LlamaTokenizer, both with legacy=True (the hub's Llama-2 tokenizer.json behaviour, and Meta's
reference encoding: a dummy-prefix "▁" after every <s>).
"""
import json
import sys

from transformers import LlamaTokenizer
from transformers.tokenization_utils_sentencepiece import SentencePieceBackend, SentencePieceExtractor

LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


def messages_of(record):
    turns = record.get("conversations", record.get("messages"))
    return [{"role": ROLES[t.get("from", t.get("role"))], "content": t.get("value", t.get("content"))} for t in turns]


def ids_of(tokenizer, messages):
    out = tokenizer.apply_chat_template(messages, tokenize=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def main():
    model, cases = sys.argv[1], sys.argv[2]
    special = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", chat_template=LLAMA2_CHAT_TEMPLATE)
    slow = SentencePieceBackend(vocab_file=model, legacy=True, **special)
    vocab, _, merges = SentencePieceExtractor(model).extract()
    fast = LlamaTokenizer(vocab=vocab, merges=merges, legacy=True, **special)
    results = []
    for line in open(cases, encoding="utf-8"):
        if not line.strip():
            continue
        messages = messages_of(json.loads(line))
        a, b = ids_of(slow, messages), ids_of(fast, messages)
        if a != b:
            sys.exit(f"slow and fast HF tokenizers disagree on {messages!r}:\n{a}\n{b}")
        results.append(a)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
