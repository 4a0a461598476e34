// Tokenizer: a sentencepiece model (LLaMA's tokenizer.model or data/tokenizer.model), loaded once
// and shared by copies. encode() adds no BOS/EOS: the chat template and the text encoder place them
// as ids, never as text.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace ctxext::data {

class Tokenizer {
 public:
  // A token and the bytes of the encoded text it covers: [begin, end).
  struct Piece {
    int64_t id;
    size_t begin;
    size_t end;
  };

  // Fails naming `path` when it is missing or not a sentencepiece model.
  static Tokenizer load(const std::string& path);

  std::vector<int64_t> encode(const std::string& text) const;
  // BOS (when the model has one) then encode(text): how LLaMA's HF tokenizer encodes a prompt.
  std::vector<int64_t> encode_with_bos(const std::string& text) const;
  std::vector<Piece> encode_pieces(const std::string& text) const;
  // Fails on an id outside [0, vocab_size()).
  std::string decode(const std::vector<int64_t>& ids) const;
  std::string piece(int64_t id) const;

  int64_t bos_id() const;  // -1 when the model has none
  int64_t eos_id() const;
  int64_t unk_id() const;
  int64_t pad_id() const;  // -1 for LLaMA's models
  int64_t vocab_size() const;
  const std::string& path() const { return path_; }

 private:
  Tokenizer(std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor, std::string path);
  void check_id(int64_t id) const;

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor_;
  std::string path_;
};

}  // namespace ctxext::data
