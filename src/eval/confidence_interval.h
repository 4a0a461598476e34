// Confidence intervals for an ablation's repeated runs (recipes/ablate_recipe.h), computed here
// without a statistics library:
//
//   mean_interval(values)          mean over seeds, two-sided Student-t interval with n - 1 degrees
//                                  of freedom: few seeds and an unknown variance, so the normal
//                                  quantile (1.96) would be too narrow (t with 2 dof: 4.30)
//   wilson_interval(k, n)          a proportion (passkey accuracy) from k successes in n trials:
//                                  Wilson's score interval, which stays inside [0, 1] and is not
//                                  empty at k = 0 or k = n, unlike the normal (Wald) one
//   student_t_quantile, normal_quantile, student_t_cdf   the quantiles both rest on
#pragma once
#include <cstdint>
#include <vector>

namespace ctxext::eval {

// The mean of n values and its two-sided interval. n < 2: no interval (low = high = mean,
// has_interval false), since one value says nothing about the spread.
struct MeanInterval {
  int64_t n = 0;
  double mean = 0.0;
  double stddev = 0.0;  // sample standard deviation (n - 1 denominator); 0 when n < 2
  double low = 0.0;
  double high = 0.0;
  bool has_interval = false;
};

// k successes of n trials, the observed rate k / n and Wilson's score interval.
struct ProportionInterval {
  int64_t successes = 0;
  int64_t trials = 0;
  double rate = 0.0;
  double low = 0.0;
  double high = 0.0;
};

// P(T <= t) for Student's t with `dof` degrees of freedom (dof >= 1), via the regularized
// incomplete beta function.
double student_t_cdf(double t, int64_t dof);
// The t with P(T <= t) = p, 0 < p < 1 (bisection on student_t_cdf to ~1e-12).
double student_t_quantile(double p, int64_t dof);
// The z with Phi(z) = p, 0 < p < 1.
double normal_quantile(double p);

// Fails (an empty list, a non-finite value, confidence outside (0, 1)) with a message naming `what`.
MeanInterval mean_interval(const std::vector<double>& values, double confidence = 0.95, const char* what = "values");
// Fails for trials < 1 or successes outside [0, trials].
ProportionInterval wilson_interval(int64_t successes, int64_t trials, double confidence = 0.95);

}  // namespace ctxext::eval
