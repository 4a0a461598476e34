#include "eval/longbench_metrics.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "core/error.h"

namespace ctxext::eval {

namespace {

bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) || c == '_';
}

std::vector<std::string> split_whitespace(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Python's re.findall(r"\d+", text).
std::vector<std::string> digit_runs(const std::string& text) {
  std::vector<std::string> runs;
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    runs.push_back(text.substr(i, j - i));
    i = j;
  }
  return runs;
}

double fraction_equal(const std::vector<std::string>& runs, const std::string& expected) {
  if (runs.empty()) return 0.0;
  const auto right = std::count(runs.begin(), runs.end(), expected);
  return static_cast<double>(right) / static_cast<double>(runs.size());
}

}  // namespace

std::string normalize_answer(const std::string& text) {
  std::string s;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && std::ispunct(u)) continue;  // string.punctuation is exactly ASCII ispunct
    s.push_back(u < 0x80 ? static_cast<char>(std::tolower(u)) : c);
  }
  // re.sub(r"\b(a|an|the)\b", " ", s): a maximal run of word bytes equal to an article.
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (!is_word_byte(s[i])) {
      out.push_back(s[i++]);
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_word_byte(s[j])) ++j;
    const std::string word = s.substr(i, j - i);
    out += (word == "a" || word == "an" || word == "the") ? std::string(" ") : word;
    i = j;
  }
  const auto words = split_whitespace(out);
  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) joined += (i ? " " : "") + words[i];
  return joined;
}

double qa_f1_score(const std::string& prediction, const std::string& ground_truth) {
  const auto pred = split_whitespace(normalize_answer(prediction));
  const auto truth = split_whitespace(normalize_answer(ground_truth));
  std::map<std::string, int> truth_counts;
  for (const auto& w : truth) ++truth_counts[w];
  int same = 0;
  for (const auto& w : pred)
    if (auto it = truth_counts.find(w); it != truth_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(pred.size());
  const double recall = static_cast<double>(same) / static_cast<double>(truth.size());
  return 2.0 * precision * recall / (precision + recall);
}

double count_score(const std::string& prediction, const std::string& ground_truth) {
  return fraction_equal(digit_runs(prediction), ground_truth);
}

double retrieval_score(const std::string& prediction, const std::string& ground_truth) {
  const std::string marker = "Paragraph ";
  for (size_t at = ground_truth.find(marker); at != std::string::npos; at = ground_truth.find(marker, at + 1)) {
    size_t j = at + marker.size();
    while (j < ground_truth.size() && std::isdigit(static_cast<unsigned char>(ground_truth[j]))) ++j;
    if (j > at + marker.size())
      return fraction_equal(digit_runs(prediction), ground_truth.substr(at + marker.size(), j - at - marker.size()));
  }
  fail("answer '{}': passage_retrieval answers look like 'Paragraph N'", ground_truth);
}

double classification_score(const std::string& prediction, const std::string& ground_truth,
                            const std::vector<std::string>& all_classes) {
  std::vector<std::string> matched;
  for (const auto& c : all_classes)
    if (prediction.find(c) != std::string::npos) matched.push_back(c);
  // LongBench removes from the list it iterates over, so the element after a removed one is not
  // examined; kept so that scores equal the published ones.
  for (size_t i = 0; i < matched.size(); ++i) {
    const std::string term = matched[i];
    if (ground_truth.find(term) != std::string::npos && term != ground_truth)
      matched.erase(std::find(matched.begin(), matched.end(), term));
  }
  if (std::find(matched.begin(), matched.end(), ground_truth) == matched.end()) return 0.0;
  return 1.0 / static_cast<double>(matched.size());
}

double longbench_sample_score(const LongBenchTask& task, const std::string& prediction,
                              const std::vector<std::string>& answers, const std::vector<std::string>& all_classes) {
  std::string pred = prediction;
  if (task.first_line_only) {  // prediction.lstrip('\n').split('\n')[0]
    pred.erase(0, pred.find_first_not_of('\n') == std::string::npos ? pred.size() : pred.find_first_not_of('\n'));
    pred = pred.substr(0, pred.find('\n'));
  }
  double best = 0.0;
  for (const auto& truth : answers) {
    double s = 0.0;
    switch (task.metric) {
      case LongBenchMetric::qa_f1: s = qa_f1_score(pred, truth); break;
      case LongBenchMetric::retrieval: s = retrieval_score(pred, truth); break;
      case LongBenchMetric::count: s = count_score(pred, truth); break;
      case LongBenchMetric::classification: s = classification_score(pred, truth, all_classes); break;
    }
    best = std::max(best, s);
  }
  return best;
}

}  // namespace ctxext::eval
