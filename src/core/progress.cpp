#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/log.h"

namespace ctxext {

namespace {
std::string format_seconds(double s) {
  const auto total = static_cast<int64_t>(s + 0.5);
  return total >= 3600 ? fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
                       : fmt::format("{:02}:{:02}", total / 60, total % 60);
}
}  // namespace

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), terminal_(isatty(fileno(stderr))), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::line(int64_t done, const std::string& detail) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed / done * (total_ - done) : 0.0;
  log::info("{} {}/{} {} (elapsed {}, eta {})", label_, done, total_, detail, format_seconds(elapsed), format_seconds(eta));
}

void Progress::update(int64_t done, const std::string& detail) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed / done * (total_ - done) : 0.0;
  if (!terminal_) {
    if (log_line_due(done, elapsed)) line(done, detail);
    return;
  }
  constexpr int kWidth = 28;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
  std::fprintf(stderr, "\r%s [%s%s] %lld/%lld %s | %s<%s   ", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), static_cast<long long>(done), static_cast<long long>(total_),
               detail.c_str(), format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
  std::fflush(stderr);
}

bool Progress::log_line_due(int64_t done, double elapsed) {
  const int64_t tenths = total_ > 0 ? std::min<int64_t>(done, total_) * 10 / total_ : 10;
  const bool due = logged_tenths_ < 0 || tenths > logged_tenths_ || done >= total_ ||
                   elapsed - logged_at_ >= kLogEverySeconds;
  if (!due) return false;
  logged_tenths_ = tenths;
  logged_at_ = elapsed;
  return true;
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (terminal_) std::fprintf(stderr, "\n");
}

}  // namespace ctxext
