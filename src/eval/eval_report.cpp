#include "eval/eval_report.h"

#include <fmt/format.h>

#include <cmath>

namespace ctxext::eval {

nlohmann::json to_json(const SlidingPerplexity& r) {
  return {{"window", r.window}, {"stride", r.stride}, {"windows", r.windows},
          {"tokens", r.tokens}, {"nll", r.nll},       {"ppl", r.ppl}};
}

nlohmann::json to_json(const PasskeyCell& c) {
  return {{"length", c.length}, {"depth", c.depth}, {"trials", c.trials}, {"correct", c.correct},
          {"accuracy", c.accuracy()}};
}

nlohmann::json to_json(const PasskeyTrial& t) {
  return {{"length", t.length}, {"depth", t.depth},         {"trial", t.trial},         {"key", t.key},
          {"prompt_tokens", t.prompt_tokens}, {"generated", t.generated}, {"success", t.success}};
}

nlohmann::json to_json(const EntropyProbe& p) {
  return {{"length", p.length},          {"samples", p.samples},     {"uniform", std::log(static_cast<double>(p.length))},
          {"per_layer", p.per_layer},    {"per_head", p.per_head}};
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t i = 0; i < width.size(); ++i) out += fmt::format(" {:<{}} |", i < cells.size() ? cells[i] : "", width[i]);
    return out + "\n";
  };
  std::string out = line(header) + "|";
  for (size_t w : width) out += std::string(w + 2, '-') + "|";
  out += "\n";
  for (const auto& row : rows) out += line(row);
  return out;
}

}  // namespace ctxext::eval
