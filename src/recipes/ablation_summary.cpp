#include "recipes/ablation_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "eval/confidence_interval.h"
#include "eval/eval_report.h"

namespace ctxext::recipes {

namespace {

using json = nlohmann::json;
using Cells = std::vector<const json*>;  // one method x size, one per seed

// {n, mean, stddev, low, high, values}; low and high null for one value.
json interval_json(const std::vector<double>& values, const std::string& what) {
  const auto r = eval::mean_interval(values, kAblationConfidence, what.c_str());
  json out{{"n", r.n}, {"mean", r.mean}, {"stddev", r.stddev}, {"low", nullptr}, {"high", nullptr}, {"values", values}};
  if (r.has_interval) out["low"] = r.low, out["high"] = r.high;
  return out;
}

// Each cell's `key` in its `section` entry whose `by` equals `at`.
std::vector<double> per_seed(const Cells& cells, const char* section, const char* by, const json& at, const char* key) {
  std::vector<double> values;
  for (const auto* c : cells)
    for (const auto& e : c->at(section))
      if (e.at(by) == at) values.push_back(e.at(key).get<double>());
  return values;
}

json summarize_passkey(const Cells& cells, json& pooled_cells) {
  json out = json::array();
  std::vector<int64_t> lengths;
  for (const auto& c : cells.front()->at("passkey")) {
    const int64_t length = c.at("length");
    if (std::find(lengths.begin(), lengths.end(), length) == lengths.end()) lengths.push_back(length);
    int64_t correct = 0, trials = 0;
    for (const auto* cell : cells)
      for (const auto& d : cell->at("passkey"))
        if (d.at("length") == c.at("length") && d.at("depth") == c.at("depth"))
          correct += d.at("correct").get<int64_t>(), trials += d.at("trials").get<int64_t>();
    pooled_cells.push_back({{"length", length}, {"depth", c.at("depth")}, {"correct", correct}, {"trials", trials},
                            {"accuracy", trials > 0 ? static_cast<double>(correct) / static_cast<double>(trials) : 0.0}});
  }
  for (int64_t length : lengths) {
    std::vector<double> accuracy;  // per seed, over depths
    int64_t correct = 0, trials = 0;
    for (const auto* cell : cells) {
      int64_t k = 0, n = 0;
      for (const auto& d : cell->at("passkey"))
        if (d.at("length") == length) k += d.at("correct").get<int64_t>(), n += d.at("trials").get<int64_t>();
      accuracy.push_back(n > 0 ? static_cast<double>(k) / static_cast<double>(n) : 0.0);
      correct += k;
      trials += n;
    }
    auto j = interval_json(accuracy, fmt::format("passkey@{} accuracies", length));
    const auto w = eval::wilson_interval(correct, trials, kAblationConfidence);
    j.update({{"length", length}, {"correct", correct}, {"trials", trials}, {"rate", w.rate}, {"wilson_low", w.low},
              {"wilson_high", w.high}});
    out.push_back(std::move(j));
  }
  return out;
}

json summarize_entropy(const Cells& cells) {
  json out = json::array();
  for (const auto& probe : cells.front()->at("entropy")) {
    json mean = json::array(), low = json::array(), high = json::array();
    for (size_t layer = 0; layer < probe.at("per_layer").size(); ++layer) {
      std::vector<double> values;
      for (const auto* c : cells)
        for (const auto& e : c->at("entropy"))
          if (e.at("length") == probe.at("length")) values.push_back(e.at("per_layer").at(layer).get<double>());
      const auto j = interval_json(values, fmt::format("entropy@{} layer {} values", probe.at("length").get<int64_t>(), layer));
      mean.push_back(j["mean"]);
      low.push_back(j["low"]);
      high.push_back(j["high"]);
    }
    out.push_back({{"length", probe.at("length")}, {"uniform", probe.at("uniform")}, {"n", cells.size()},
                   {"per_layer", mean}, {"per_layer_low", low}, {"per_layer_high", high}});
  }
  return out;
}

json summarize_group(const Cells& cells) {
  const json& first = *cells.front();
  json out{{"name", first.at("name")}, {"num_samples", first.at("num_samples")}, {"rope_type", first.at("rope_type")},
           {"extended_context", first.at("extended_context")}, {"rope_overrides", first.at("rope_overrides")},
           {"n", cells.size()}, {"seeds", json::array()}};
  std::vector<double> train_seconds;
  for (const auto* c : cells) {
    out["seeds"].push_back(c->at("seed"));
    train_seconds.push_back(c->at("train_seconds").get<double>());
  }
  out["train_seconds"] = interval_json(train_seconds, "train seconds");
  out["ppl"] = json::array();
  for (const auto& p : first.at("ppl")) {
    auto j = interval_json(per_seed(cells, "ppl", "length", p.at("length"), "ppl"), "perplexities");
    j["length"] = p.at("length");
    out["ppl"].push_back(std::move(j));
  }
  out["passkey_cells"] = json::array();
  out["passkey"] = summarize_passkey(cells, out["passkey_cells"]);
  out["entropy"] = summarize_entropy(cells);
  out["longbench"] = json::array();
  for (const auto& t : first.at("longbench")) {
    auto j = interval_json(per_seed(cells, "longbench", "task", t.at("task"), "score"), "LongBench scores");
    j["task"] = t.at("task");
    out["longbench"].push_back(std::move(j));
  }
  return out;
}

// "45.975 ± 0.412" (the t interval's half width), or "45.975 (n=1)".
std::string with_interval(const json& j, int precision) {
  const double mean = j.at("mean").get<double>();
  if (j.at("low").is_null()) return fmt::format("{:.{}f} (n=1)", mean, precision);
  return fmt::format("{:.{}f} ± {:.{}f}", mean, precision, 0.5 * (j.at("high").get<double>() - j.at("low").get<double>()),
                     precision);
}

std::vector<std::string> row_start(const json& m) {
  return {m.at("name").get<std::string>(),
          m.at("num_samples").is_null() ? "-" : std::to_string(m.at("num_samples").get<int64_t>()),
          std::to_string(m.at("n").get<int64_t>())};
}

}  // namespace

json summarize_ablation(const json& cells) {
  std::vector<std::pair<json, Cells>> groups;  // (name, num_samples) in order of first appearance
  for (const auto& c : cells) {
    const json key{c.at("name"), c.at("num_samples")};
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), std::make_pair(key, Cells{}));
    it->second.push_back(&c);
  }
  json out = json::array();
  for (const auto& [key, group] : groups) out.push_back(summarize_group(group));
  return out;
}

std::string ablation_tables(const json& summary) {
  if (summary.empty()) return "";
  const json& first = summary.front();
  std::vector<std::string> head = {"method", "samples", "seeds"};

  auto header = head;
  header.push_back("train s");
  for (const auto& p : first.at("ppl")) header.push_back(fmt::format("ppl@{}", p.at("length").get<int64_t>()));
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : summary) {
    auto row = row_start(m);
    row.push_back(with_interval(m.at("train_seconds"), 1));
    for (const auto& p : m.at("ppl")) row.push_back(with_interval(p, 3));
    rows.push_back(std::move(row));
  }
  std::string out = "## Perplexity\n\n" + eval::markdown_table(header, rows);

  if (!first.at("passkey").empty()) {
    header = head;
    for (const auto& p : first.at("passkey")) header.push_back(fmt::format("passkey@{}", p.at("length").get<int64_t>()));
    rows.clear();
    for (const auto& m : summary) {
      auto row = row_start(m);
      for (const auto& p : m.at("passkey"))
        row.push_back(fmt::format("{} · {}/{} W [{:.2f}, {:.2f}]", with_interval(p, 2), p.at("correct").get<int64_t>(),
                                  p.at("trials").get<int64_t>(), p.at("wilson_low").get<double>(),
                                  p.at("wilson_high").get<double>()));
      rows.push_back(std::move(row));
    }
    out += "\n## Passkey accuracy\n\n" + eval::markdown_table(header, rows);
  }

  if (!first.at("longbench").empty()) {
    header = head;
    for (const auto& t : first.at("longbench")) header.push_back("LB " + t.at("task").get<std::string>());
    rows.clear();
    for (const auto& m : summary) {
      auto row = row_start(m);
      for (const auto& t : m.at("longbench")) row.push_back(with_interval(t, 2));
      rows.push_back(std::move(row));
    }
    out += "\n## LongBench\n\n" + eval::markdown_table(header, rows);
  }

  if (!first.at("entropy").empty()) {
    const auto& longest = first.at("entropy").back();
    const int64_t length = longest.at("length");
    header = head;
    for (size_t l = 0; l < longest.at("per_layer").size(); ++l) header.push_back(fmt::format("layer {}", l));
    rows.clear();
    for (const auto& m : summary) {
      auto row = row_start(m);
      const auto& e = m.at("entropy").back();
      for (size_t l = 0; l < e.at("per_layer").size(); ++l)
        row.push_back(with_interval({{"mean", e["per_layer"][l]}, {"low", e["per_layer_low"][l]}, {"high", e["per_layer_high"][l]}}, 2));
      rows.push_back(std::move(row));
    }
    out += fmt::format("\n## Attention entropy of the last query at {} tokens (nats, mean over heads; uniform: ln {} = {:.2f})\n\n",
                       length, length, longest.at("uniform").get<double>()) +
           eval::markdown_table(header, rows);
  }
  return out + fmt::format(
      "\nIntervals: mean over the seeds ± the half width of a two-sided {:.0f}% Student-t interval with n - 1 "
      "degrees of freedom (n seeds: few runs and an unknown variance, so t rather than the normal 1.96; t = 4.30 "
      "at n = 3); n=1: one run, no interval. Passkey `k/N W [a, b]`: the trials pooled over depths and seeds and "
      "their {:.0f}% Wilson score interval — the noise of the prompts alone; the ± also holds the seed-to-seed "
      "spread of training. `none` is the base, untrained: seed-free unless it is a random preset.\n",
      100 * kAblationConfidence, 100 * kAblationConfidence);
}

}  // namespace ctxext::recipes
