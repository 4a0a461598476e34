// LongBench's metrics (THUDM/LongBench metrics.py and eval.py), re-derived in C++ on bytes. Python
// works on Unicode code points; here every non-ASCII byte counts as a letter, which gives the same
// result for English text (lower-casing and punctuation are ASCII in both).
#pragma once
#include <string>
#include <vector>

#include "eval/longbench_tasks.h"

namespace ctxext::eval {

// Lower-cased, ASCII punctuation removed, the words a/an/the removed, whitespace collapsed.
std::string normalize_answer(const std::string& text);

// Bag-of-words F1 between the normalised prediction and ground truth (0 when either is empty).
double qa_f1_score(const std::string& prediction, const std::string& ground_truth);

// Of the digit runs in the prediction, the fraction equal to the ground truth (0 when there are none).
double count_score(const std::string& prediction, const std::string& ground_truth);

// count_score against the N of "Paragraph N" in the ground truth; fails when it has no "Paragraph N".
double retrieval_score(const std::string& prediction, const std::string& ground_truth);

// The classes named in the prediction (minus those that are proper substrings of the ground truth,
// with LongBench's skip-after-remove iteration kept); 1/count when the ground truth is among them.
double classification_score(const std::string& prediction, const std::string& ground_truth,
                            const std::vector<std::string>& all_classes);

// One sample: the prediction (its first line for first_line_only tasks) scored against every
// ground truth, the best score kept, in [0, 1].
double longbench_sample_score(const LongBenchTask& task, const std::string& prediction,
                              const std::vector<std::string>& answers, const std::vector<std::string>& all_classes);

}  // namespace ctxext::eval
