// metrics.jsonl rows (issue 10 §5): supervised and processed tokens per second as separate fields,
// the step's wall time, a UTC timestamp and the elapsed training time, continued across a resume.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/test_support.h"
#include "train/metrics_log.h"

using namespace ctxext;
using namespace ctxext::testing;

namespace {

std::vector<nlohmann::json> rows_of(const fs::path& file) {
  std::vector<nlohmann::json> rows;
  std::istringstream in(read_text(file));
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

train::StepMetrics step_metrics(int64_t step) {
  train::StepMetrics m;
  m.step = step;
  m.tokens = 100;
  m.processed_tokens = 400;
  m.set_step_seconds(0.5);
  return m;
}

}  // namespace

TEST_CASE("a metrics row has both token rates, the step time, a UTC timestamp and the elapsed time", "[metrics]") {
  TempDir dir;
  {
    train::MetricsLog log(dir / "metrics.jsonl", 0);
    log.append(step_metrics(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.append(step_metrics(2));
  }
  auto rows = rows_of(dir / "metrics.jsonl");
  REQUIRE(rows.size() == 2);
  const auto& row = rows[0];
  CHECK(row["tokens"] == 100);
  CHECK(row["supervised_tokens_per_s"].get<double>() == Approx(200.0));
  CHECK(row["tokens_per_s"].get<double>() == Approx(200.0));  // the older name, read by the benchmark scripts
  CHECK(row["processed_tokens"] == 400);
  CHECK(row["processed_tokens_per_s"].get<double>() == Approx(800.0));
  CHECK(row["step_s"].get<double>() == Approx(0.5));
  CHECK(std::regex_match(row["time"].get<std::string>(),
                         std::regex(R"(20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z)")));
  CHECK(row["elapsed_s"].get<double>() >= 0.0);
  CHECK(rows[1]["elapsed_s"].get<double>() >= row["elapsed_s"].get<double>() + 0.015);

  // A resume at step 1 drops step 2's row and goes on counting from step 1's elapsed time.
  const double before = row["elapsed_s"].get<double>();
  {
    train::MetricsLog log(dir / "metrics.jsonl", 1);
    log.append(step_metrics(2));
  }
  rows = rows_of(dir / "metrics.jsonl");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["step"] == 2);
  CHECK(rows[1]["elapsed_s"].get<double>() >= before);
}

TEST_CASE("count_tokens adds the lengths of the batch's samples", "[metrics]") {
  std::vector<data::Sample> samples(3);
  samples[0].input_ids = {1, 2, 3};
  samples[1].input_ids = {1};
  samples[2].input_ids = {1, 2, 3, 4, 5};
  CHECK(train::count_tokens(samples, {0, 2}) == 8);
  CHECK(train::count_tokens(samples, {1, 1}) == 2);
  CHECK(train::count_tokens(samples, {}) == 0);
}
