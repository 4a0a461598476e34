// Progress of long work: a live bar with ETA on a terminal (stderr), plain log lines otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace ctxext {

class Progress {
 public:
  Progress(std::string label, int64_t total);
  ~Progress();
  // Marks `done` units complete; `detail` is shown after the bar (e.g. "loss 2.31").
  void update(int64_t done, const std::string& detail = "");
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ctxext
