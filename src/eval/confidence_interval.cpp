#include "eval/confidence_interval.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ctxext::eval {

namespace {

// The continued fraction of the regularized incomplete beta function I_x(a, b) (Lentz's method),
// valid for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  d = 1.0 / (std::fabs(d) < kTiny ? kTiny : d);
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    for (int half = 0; half < 2; ++half) {
      const double numerator = half == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                         : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1.0 + numerator * d;
      d = 1.0 / (std::fabs(d) < kTiny ? kTiny : d);
      c = 1.0 + numerator / c;
      if (std::fabs(c) < kTiny) c = kTiny;
      const double step = c * d;
      h *= step;
      if (half == 1 && std::fabs(step - 1.0) < kEps) return h;
    }
  }
  return h;
}

// I_x(a, b), the regularized incomplete beta function; y = 1 - x is passed as computed by the caller
// (t^2 / (v + t^2) near t = 0 would lose all its digits as 1 - v / (v + t^2)).
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, y) / b;
}

// The x in [lo, hi] with cdf(x) = p for an increasing cdf, by bisection.
template <typename Cdf>
double invert(Cdf cdf, double p, double lo, double hi) {
  for (int i = 0; i < 200 && hi - lo > 1e-13 * (1.0 + std::fabs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

void check_probability(double p, const char* what) {
  if (!(p > 0.0 && p < 1.0)) fail("{} must be strictly between 0 and 1, got {}", what, p);
}

}  // namespace

double student_t_cdf(double t, int64_t dof) {
  if (dof < 1) fail("student_t_cdf: degrees of freedom must be >= 1, got {}", dof);
  const double v = static_cast<double>(dof);
  const double tail = 0.5 * incomplete_beta(0.5 * v, 0.5, v / (v + t * t), t * t / (v + t * t));  // P(T > |t|)
  return t >= 0.0 ? 1.0 - tail : tail;
}

double student_t_quantile(double p, int64_t dof) {
  check_probability(p, "student_t_quantile: p");
  if (dof < 1) fail("student_t_quantile: degrees of freedom must be >= 1, got {}", dof);
  // The t quantile of 1 dof at 1 - 1e-12 is ~3e11; widen the bracket until it holds p.
  double bound = 16.0;
  while (student_t_cdf(bound, dof) < p || student_t_cdf(-bound, dof) > p) bound *= 16.0;
  return invert([dof](double t) { return student_t_cdf(t, dof); }, p, -bound, bound);
}

double normal_quantile(double p) {
  check_probability(p, "normal_quantile: p");
  return invert([](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }, p, -40.0, 40.0);
}

MeanInterval mean_interval(const std::vector<double>& values, double confidence, const char* what) {
  check_probability(confidence, "mean_interval: confidence");
  if (values.empty()) fail("mean_interval: no {} to average", what);
  MeanInterval r;
  r.n = static_cast<int64_t>(values.size());
  for (double v : values) {
    if (!std::isfinite(v)) fail("mean_interval: a non-finite value ({}) among the {}", v, what);
    r.mean += v;
  }
  r.mean /= static_cast<double>(r.n);
  r.low = r.high = r.mean;
  if (r.n < 2) return r;
  double squares = 0.0;
  for (double v : values) squares += (v - r.mean) * (v - r.mean);
  r.stddev = std::sqrt(squares / static_cast<double>(r.n - 1));
  const double half = student_t_quantile(0.5 + 0.5 * confidence, r.n - 1) * r.stddev / std::sqrt(static_cast<double>(r.n));
  r.low = r.mean - half;
  r.high = r.mean + half;
  r.has_interval = true;
  return r;
}

ProportionInterval wilson_interval(int64_t successes, int64_t trials, double confidence) {
  check_probability(confidence, "wilson_interval: confidence");
  if (trials < 1) fail("wilson_interval: trials must be >= 1, got {}", trials);
  if (successes < 0 || successes > trials) fail("wilson_interval: {} successes of {} trials", successes, trials);
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z = normal_quantile(0.5 + 0.5 * confidence);
  const double z2 = z * z;
  const double centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
  const double half = z / (1.0 + z2 / n) * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
  // At k = 0 or k = n the bound is exactly 0 or 1; set it, rounding would leave it a hair off.
  return {successes, trials, p, successes == 0 ? 0.0 : std::max(0.0, centre - half),
          successes == trials ? 1.0 : std::min(1.0, centre + half)};
}

}  // namespace ctxext::eval
