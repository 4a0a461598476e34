// Progress of long work: a live bar with ETA on a terminal (stderr); otherwise (a log file, a pipe)
// plain log lines, and only a few of them: the first update, one each time another 10% is done, the
// last, and between those at most one every kLogEverySeconds, so slow work still shows it is alive.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace ctxext {

class Progress {
 public:
  static constexpr double kLogEverySeconds = 10.0;

  Progress(std::string label, int64_t total);
  ~Progress();
  // Marks `done` units complete; `detail` is shown after the bar (e.g. "loss 2.31").
  void update(int64_t done, const std::string& detail = "");
  // Always one log line with the elapsed time and ETA, terminal or not: for coarse units that other
  // output runs between (an ablation's cells), where a bar would be overwritten.
  void line(int64_t done, const std::string& detail = "");
  void finish();

 private:
  bool log_line_due(int64_t done, double elapsed);

  std::string label_;
  int64_t total_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  int64_t logged_tenths_ = -1;   // tenths of the total done at the last log line; -1: none yet
  double logged_at_ = 0.0;       // elapsed seconds at the last log line
};

}  // namespace ctxext
