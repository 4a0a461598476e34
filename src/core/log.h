// Logging: formatted here with fmt, written by spdlog in logging.cpp (kept apart from torch's fmt).
#pragma once
#include <fmt/format.h>

#include <string>
#include <utility>

namespace ctxext::log {

enum class Level { debug, info, warn, error };

void write(Level level, const std::string& message);
void set_verbose(bool verbose);
// In a job of world_size > 1 processes: every line says "[rank r]", and only rank 0 writes info and
// debug lines (the others warn and fail only), so a job's log reads like one process's.
void set_rank(int rank, int world_size);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { write(Level::debug, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { write(Level::info, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { write(Level::warn, fmt::format(f, std::forward<Args>(a)...)); }

}  // namespace ctxext::log
