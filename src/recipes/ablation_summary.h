// An ablation grid's results, aggregated over seeds: one summary entry per method x data size, each
// evaluation length with its mean and 95% interval (eval/confidence_interval.h), and the tables of
// results.md. Input: the per-cell results recipes/ablate_recipe.cpp writes (one object per trained
// method x size x seed, with the evaluation suite's "ppl", "passkey", "entropy", "longbench").
//
// Intervals:
// - every metric (perplexity, passkey accuracy, entropy per layer, LongBench score, train seconds):
//   the mean over seeds and a two-sided Student-t interval with n - 1 degrees of freedom; few seeds
//   (3) and an unknown variance make the normal 1.96 too narrow (t: 4.30 at n = 3). One seed: no
//   interval ("low"/"high" null, printed "n=1").
// - passkey accuracy also: Wilson's score interval for the trials pooled over depths and seeds (k of
//   depths x trials x seeds). It is the trial (sampling) noise of the prompts alone; the t interval
//   also holds the seed-to-seed spread of training.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace ctxext::recipes {

inline constexpr double kAblationConfidence = 0.95;

// cells: [{name, num_samples (null for "none"), seed, rope_type, extended_context, rope_overrides,
// train_seconds, ppl, passkey, entropy, longbench}, ...]. Returns one entry per (name, num_samples)
// in order of first appearance: {name, num_samples, rope_type, extended_context, rope_overrides,
// seeds, n, train_seconds, ppl: [{length, ...interval}], passkey: [{length, ...interval, correct,
// trials, wilson_low, wilson_high}], passkey_cells: [{length, depth, correct, trials, accuracy}]
// (pooled over seeds), entropy: [{length, uniform, n, per_layer, per_layer_low, per_layer_high}],
// longbench: [{task, ...interval}]}, where an interval is {n, mean, stddev, low, high, values}.
nlohmann::json summarize_ablation(const nlohmann::json& cells);

// The tables of results.md: perplexity, passkey, LongBench (when run) and the entropy per layer at
// the longest entropy length, one row per summary entry, with a paragraph saying which intervals.
std::string ablation_tables(const nlohmann::json& summary);

}  // namespace ctxext::recipes
