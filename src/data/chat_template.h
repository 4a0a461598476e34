// LLaMA-2 chat template, built from token ids:
//   <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user2} [/INST] {assistant2} </s>
// Same ids as Hugging Face's Llama-2 chat_template (tokenizer_config.json of Llama-2-*-chat-hf)
// rendered and tokenised by LlamaTokenizer with legacy=True (the behaviour of the hub's Llama-2
// tokenizer.json), which is also Meta's reference encoding: every text segment between the BOS/EOS
// ids is one sentencepiece encode (with its dummy-prefix "▁"); user and assistant texts are
// stripped of surrounding whitespace exactly as Python's str.strip() does. One difference by
// design: "<s>"/"</s>" written inside a message stay text here, where HF would turn them into
// control tokens.
#pragma once
#include <optional>
#include <string>

#include "data/conversation.h"
#include "data/sample.h"
#include "data/tokenizer.h"

namespace ctxext::data {

// Labels: the assistant tokens and the EOS closing each assistant turn; kIgnoreIndex elsewhere.
// `default_system` is used when the conversation has no system turn. A conversation ending with a
// user turn ends with "... [/INST]" (no EOS). Fails when the tokenizer has no BOS or EOS.
Sample encode_llama2_chat(const Tokenizer& tokenizer, const Conversation& conversation,
                          const std::optional<std::string>& default_system = std::nullopt);

// Python's str.strip(): removes leading and trailing Unicode whitespace (str.isspace()).
std::string python_strip(const std::string& text);

}  // namespace ctxext::data
