// spdlog sink behind ctxext::log. Logs go to stderr so that `--json` output on stdout stays clean.
#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace ctxext::log {
namespace {
std::shared_ptr<spdlog::logger> logger() {
  static auto instance = [] {
    auto l = spdlog::stderr_color_mt("ctxext");
    l->set_pattern("[%H:%M:%S] %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return instance;
}
}  // namespace

namespace {
int g_rank = 0;
}  // namespace

void set_verbose(bool verbose) {
  logger()->set_level(g_rank > 0 ? spdlog::level::warn : verbose ? spdlog::level::debug : spdlog::level::info);
}

void set_rank(int rank, int world_size) {
  g_rank = rank;
  if (world_size <= 1) return;
  logger()->set_pattern("[%H:%M:%S] [rank " + std::to_string(rank) + "] %^%l%$ %v");
  if (rank > 0) logger()->set_level(spdlog::level::warn);
}

void write(Level level, const std::string& message) {
  switch (level) {
    case Level::debug: logger()->debug(message); break;
    case Level::info: logger()->info(message); break;
    case Level::warn: logger()->warn(message); break;
    case Level::error: logger()->error(message); break;
  }
}

}  // namespace ctxext::log
