// eval/confidence_interval.h against textbook values: Student-t and normal quantiles from printed
// tables, Wilson intervals and a t interval worked by hand, and the bad inputs.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.h"
#include "eval/confidence_interval.h"

using Catch::Matchers::Contains;

TEST_CASE("confidence: Student-t and normal quantiles equal the printed tables", "[eval][confidence]") {
  // Two-sided 95% (p = 0.975) and 99% (p = 0.995) critical values, e.g. any statistics textbook's t table.
  CHECK(ctxext::eval::student_t_quantile(0.975, 1) == Approx(12.7062047).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.975, 2) == Approx(4.30265273).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.975, 4) == Approx(2.77644511).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.975, 10) == Approx(2.22813885).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.975, 30) == Approx(2.04227246).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.995, 2) == Approx(9.92484320).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.025, 2) == Approx(-4.30265273).epsilon(1e-8));  // symmetric
  CHECK(ctxext::eval::student_t_quantile(0.5, 7) == Approx(0.0).margin(1e-10));
  // t with 1 dof is the Cauchy distribution: P(T <= 1) = 3/4 exactly.
  CHECK(ctxext::eval::student_t_cdf(1.0, 1) == Approx(0.75).epsilon(1e-12));
  // Many dof approach the normal.
  CHECK(ctxext::eval::normal_quantile(0.975) == Approx(1.95996398).epsilon(1e-8));
  CHECK(ctxext::eval::normal_quantile(0.995) == Approx(2.57582930).epsilon(1e-8));
  CHECK(ctxext::eval::student_t_quantile(0.975, 100000) == Approx(1.95996398).epsilon(1e-4));
}

TEST_CASE("confidence: the t interval of a mean over seeds", "[eval][confidence]") {
  // {1, 2, 3}: mean 2, s = 1, half width t(0.975, 2) / sqrt(3) = 2.484138.
  const auto r = ctxext::eval::mean_interval({1.0, 2.0, 3.0});
  CHECK(r.n == 3);
  CHECK(r.has_interval);
  CHECK(r.mean == Approx(2.0));
  CHECK(r.stddev == Approx(1.0));
  CHECK(r.low == Approx(2.0 - 2.48413771).epsilon(1e-8));
  CHECK(r.high == Approx(2.0 + 2.48413771).epsilon(1e-8));
  // 90% is narrower: t(0.95, 2) = 2.91998558.
  const auto r90 = ctxext::eval::mean_interval({1.0, 2.0, 3.0}, 0.90);
  CHECK(r90.high == Approx(2.0 + 2.91998558 / std::sqrt(3.0)).epsilon(1e-8));
  // Equal values: a zero-width interval, not a NaN.
  const auto flat = ctxext::eval::mean_interval({5.0, 5.0});
  CHECK(flat.has_interval);
  CHECK(flat.low == 5.0);
  CHECK(flat.high == 5.0);
  // One value: no interval.
  const auto one = ctxext::eval::mean_interval({4.5});
  CHECK_FALSE(one.has_interval);
  CHECK(one.mean == 4.5);
  CHECK(one.low == 4.5);
  CHECK_THROWS_WITH(ctxext::eval::mean_interval({}, 0.95, "ppl@256 values"), Contains("no ppl@256 values"));
  CHECK_THROWS_WITH(ctxext::eval::mean_interval({1.0, NAN}), Contains("non-finite"));
  CHECK_THROWS_WITH(ctxext::eval::mean_interval({1.0, 2.0}, 1.0), Contains("confidence must be strictly between 0 and 1"));
}

TEST_CASE("confidence: Wilson score intervals of a passkey accuracy", "[eval][confidence]") {
  // Values of Wilson (1927)'s formula at z = 1.959964, as tabulated e.g. by Newcombe (1998).
  auto w = ctxext::eval::wilson_interval(5, 10);
  CHECK(w.rate == 0.5);
  CHECK(w.low == Approx(0.236593).epsilon(1e-5));
  CHECK(w.high == Approx(0.763407).epsilon(1e-5));
  w = ctxext::eval::wilson_interval(8, 10);
  CHECK(w.low == Approx(0.490162).epsilon(1e-5));
  CHECK(w.high == Approx(0.943318).epsilon(1e-5));
  // k = 0: not the empty Wald interval [0, 0].
  w = ctxext::eval::wilson_interval(0, 10);
  CHECK(w.low == 0.0);
  CHECK(w.high == Approx(0.277533).epsilon(1e-5));
  w = ctxext::eval::wilson_interval(75, 75);
  CHECK(w.high == 1.0);
  CHECK(w.low == Approx(1.0 / (1.0 + 1.95996398 * 1.95996398 / 75.0)).epsilon(1e-6));
  CHECK_THROWS_WITH(ctxext::eval::wilson_interval(3, 0), Contains("trials must be >= 1"));
  CHECK_THROWS_WITH(ctxext::eval::wilson_interval(11, 10), Contains("11 successes of 10 trials"));
}
