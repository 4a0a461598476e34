// A whole file mapped into memory, copy-on-write: tensors viewing it may be modified in place
// without touching the file. Shared by every tensor that views it; unmapped with the last one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>

namespace ctxext::io {

class MappedFile {
 public:
  // Throws ctxext::Error naming the file when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& file);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  MappedFile(uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint8_t* data_;
  uint64_t size_;
};

}  // namespace ctxext::io
