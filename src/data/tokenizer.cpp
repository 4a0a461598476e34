#include "data/tokenizer.h"

#include <sentencepiece_processor.h>

#include <filesystem>

#include "core/error.h"
#include "core/file_kind.h"
#include "core/strings.h"

namespace ctxext::data {

Tokenizer::Tokenizer(std::shared_ptr<const sentencepiece::SentencePieceProcessor> processor, std::string path)
    : processor_(std::move(processor)), path_(std::move(path)) {}

namespace {

// HF "fast" tokenizers (tokenizer.json: LLaMA-3, Mistral, Qwen) are read by the Rust `tokenizers`
// library, which has no C or C++ interface packaged in Debian or on PyPI (its wheel is a Python
// extension only), so ctxext cannot load them without hand-writing a BPE.
constexpr const char* kOnlySentencepiece =
    "ctxext reads only sentencepiece tokenizer.model files: a HF fast tokenizer (tokenizer.json) needs the Rust "
    "tokenizers library, which no Debian or PyPI package offers to C++";

void check_tokenizer_file(const std::filesystem::path& path) {
  const std::string kind = file_kind(path);
  if (kind == "is a regular file") {
    if (ends_with(path.string(), ".json"))
      fail("{}: this is a HF tokenizer.json, not a sentencepiece model: {}", path.string(), kOnlySentencepiece);
    return;
  }
  const auto json = path.parent_path() / "tokenizer.json";
  if (file_kind(json) == "is a regular file")
    fail("{}: {}; the folder has {} instead, but {}", path.string(), kind, json.string(), kOnlySentencepiece);
  fail("{}: tokenizer model {}", path.string(), kind == "does not exist" ? "not found" : kind);
}

}  // namespace

Tokenizer Tokenizer::load(const std::string& path) {
  check_tokenizer_file(path);
  auto processor = std::make_shared<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(path);
  if (!status.ok()) fail("{}: not a valid sentencepiece tokenizer model ({})", path, status.ToString());
  if (processor->GetPieceSize() <= 0) fail("{}: tokenizer model has an empty vocabulary", path);
  return Tokenizer(std::move(processor), path);
}

std::vector<int64_t> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = processor_->Encode(text, &ids);
  if (!status.ok()) fail("{}: cannot encode text: {}", path_, status.ToString());
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::vector<int64_t> Tokenizer::encode_with_bos(const std::string& text) const {
  std::vector<int64_t> ids;
  if (bos_id() >= 0) ids.push_back(bos_id());
  const auto body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::vector<Tokenizer::Piece> Tokenizer::encode_pieces(const std::string& text) const {
  sentencepiece::ImmutableSentencePieceText spt;
  const auto status = processor_->Encode(text, spt.mutable_proto());
  if (!status.ok()) fail("{}: cannot encode text: {}", path_, status.ToString());
  std::vector<Piece> pieces;
  pieces.reserve(spt.pieces_size());
  for (const auto& p : spt.pieces()) pieces.push_back({p.id(), p.begin(), p.end()});
  return pieces;
}

void Tokenizer::check_id(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    fail("{}: token id {} is outside the vocabulary [0, {})", path_, id, vocab_size());
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> narrow;
  narrow.reserve(ids.size());
  for (int64_t id : ids) {
    check_id(id);
    narrow.push_back(static_cast<int>(id));
  }
  std::string text;
  const auto status = processor_->Decode(narrow, &text);
  if (!status.ok()) fail("{}: cannot decode ids: {}", path_, status.ToString());
  return text;
}

std::string Tokenizer::piece(int64_t id) const {
  check_id(id);
  return processor_->IdToPiece(static_cast<int>(id));
}

int64_t Tokenizer::bos_id() const { return processor_->bos_id(); }
int64_t Tokenizer::eos_id() const { return processor_->eos_id(); }
int64_t Tokenizer::unk_id() const { return processor_->unk_id(); }
int64_t Tokenizer::pad_id() const { return processor_->pad_id(); }
int64_t Tokenizer::vocab_size() const { return processor_->GetPieceSize(); }

}  // namespace ctxext::data
