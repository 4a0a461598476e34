// ctxext plot RUN_DIR: the loss and learning-rate curves of a training run as a PNG.
// metrics.jsonl is checked here, row by row, so a damaged file is a one-line error naming the
// line; the drawing itself is scripts/plot_run.py (matplotlib).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/python_script.h"
#include "core/text_file.h"
#include "io/strict_json.h"

namespace ctxext::cli {

namespace fs = std::filesystem;

namespace {

struct PlotFlags {
  std::string run_dir;
  std::string out;
};

// Rows need an integer "step" (increasing), a number "lr" and a "loss" that is a number or null
// (a skipped step). Returns the number of rows.
int64_t check_metrics(const fs::path& file) {
  std::istringstream lines(read_text_file(file, "training metrics"));
  int64_t rows = 0, previous_step = 0, line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", file.string(), line_no);
    const auto row = io::parse_strict_json(line, where);
    if (!row.is_object()) fail("{}: expected a JSON object per line, got {}", where, io::json_excerpt(row));
    if (!row.contains("step") || !row["step"].is_number_integer())
      fail("{}: 'step' missing or not an integer", where);
    const auto step = row["step"].get<int64_t>();
    if (step <= previous_step) fail("{}: step {} after step {}: steps must increase", where, step, previous_step);
    previous_step = step;
    if (!row.contains("lr") || !row["lr"].is_number()) fail("{}: 'lr' missing or not a number", where);
    if (!row.contains("loss") || !(row["loss"].is_number() || row["loss"].is_null()))
      fail("{}: 'loss' missing or neither a number nor null", where);
    ++rows;
  }
  if (rows == 0) fail("{}: no rows (has the run finished a step yet?)", file.string());
  return rows;
}

void run_plot(const PlotFlags& f) {
  const fs::path run_dir = f.run_dir;
  if (!fs::is_directory(run_dir)) fail("{}: not a folder (give the run's output_dir)", f.run_dir);
  const fs::path metrics = run_dir / "metrics.jsonl";
  if (!fs::exists(metrics)) fail("{}: no metrics.jsonl (is this a training run's output_dir?)", f.run_dir);
  const int64_t rows = check_metrics(metrics);
  const fs::path out = f.out.empty() ? run_dir / "training.png" : fs::path(f.out);
  if (out.has_parent_path() && !fs::is_directory(out.parent_path()))
    fail("--out {}: folder {} does not exist", f.out, out.parent_path().string());
  const std::string title = fs::absolute(run_dir).lexically_normal().filename().string();
  run_python_script("plot_run.py", {metrics.string(), out.string(), title.empty() ? f.run_dir : title},
                    "nothing was written");
  std::cout << fmt::format("{}: loss and learning rate over {} steps\n", out.string(), rows);
}

}  // namespace

void add_plot(CLI::App& app) {
  auto flags = std::make_shared<PlotFlags>();
  auto* cmd = app.add_subcommand("plot", "Draw a training run's loss and learning-rate curves (PNG)");
  cmd->footer(
      "Reads RUN_DIR/metrics.jsonl (one row per optimizer step, written by `ctxext train`) and writes\n"
      "RUN_DIR/training.png: the training loss per step (skipped non-finite steps marked), the held-out\n"
      "eval loss where present, and the learning rate. Example:\n"
      "  ctxext plot runs/tiny-eabf            # -> runs/tiny-eabf/training.png");
  cmd->add_option("run_dir", flags->run_dir, "The training run's output_dir")->required();
  cmd->add_option("--out", flags->out, "PNG to write (default RUN_DIR/training.png)");
  cmd->callback([flags] { run_plot(*flags); });
}

}  // namespace ctxext::cli
