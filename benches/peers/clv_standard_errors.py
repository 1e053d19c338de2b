#!/usr/bin/env python3
"""Standard errors of the CLV models' parameters on CDNOW (time unit weeks), computed by the
Python `lifetimes` package: the peer figures the tests of src/analytics/clv/uncertainty.rs
compare crmlens's standard errors with.

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes numdifftools
    /tmp/lt/bin/python benches/peers/clv_standard_errors.py [datasets/cdnow]

- BG/NBD and Gamma-Gamma: lifetimes' own `standard_errors_` (`summary["se(coef)"]`): the
  inverse of autograd's Hessian of the negative log-likelihood in the log-parameters at
  lifetimes' optimum, taken back to the parameters by the delta method.
- Pareto/NBD: lifetimes fits it by Nelder-Mead and computes no standard errors; here the
  inverse of numdifftools' Hessian of lifetimes' own Pareto/NBD log-likelihood (in the
  parameters) at lifetimes' optimum, polished by BFGS first so the gradient is ~0 there.

Printed to 4 significant digits, the precision the tests record.
"""
import sys
import warnings

import numdifftools as nd
import numpy as np
import pandas as pd
from scipy.optimize import minimize

import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

warnings.simplefilter("ignore")
folder = sys.argv[1] if len(sys.argv) > 1 else "datasets/cdnow"
s = pd.read_csv(f"{folder}/cdnow_customers_summary.csv")
spend = pd.read_csv(f"{folder}/cdnow_customers_summary_with_transactions.csv")
repeat = spend[spend.x > 0]
print(f"lifetimes {lifetimes.__version__}, {len(s)} customers, {len(repeat)} with repeat spend")


def show(name, params, se):
    print(name)
    for k in params.index:
        print(f"  {k:6} {params[k]:.6g}  se {se[k]:.4g}")


bgf = BetaGeoFitter().fit(s.frequency, s.recency, s["T"])
show("BG/NBD", bgf.params_, bgf.summary["se(coef)"])

ggf = GammaGammaFitter().fit(repeat.x, repeat.zbar)
show("Gamma-Gamma", ggf.params_, ggf.summary["se(coef)"])

pnbd = ParetoNBDFitter().fit(s.frequency, s.recency, s["T"])
x, t_x, t = (np.asarray(v, dtype=float) for v in (s.frequency, s.recency, s["T"]))


def ll(theta):
    if np.any(theta <= 0):
        return -np.inf
    return ParetoNBDFitter._conditional_log_likelihood(theta, x, t_x, t).sum()


start = pnbd.params_[["r", "alpha", "s", "beta"]].to_numpy()
polished = minimize(lambda u: -ll(np.exp(u)), np.log(start), method="BFGS",
                    options={"gtol": 1e-8}).x
theta = np.exp(polished)
hessian = nd.Hessian(ll, step=1e-4 * theta)(theta)
se = np.sqrt(np.diag(np.linalg.inv(-hessian)))
names = ["r", "alpha", "s", "beta"]
show("Pareto/NBD", pd.Series(theta, index=names), pd.Series(se, index=names))
print(f"  log-likelihood {ll(theta):.2f}")

# The 90% CLV interval by parametric bootstrap, the method of crmlens's `clv predict
# --interval`: parameter sets drawn from the normal distribution of the log-parameters with
# the covariance from lifetimes' own Hessian (of the mean negative log-likelihood in ln θ:
# inv(H) / n; its variance_matrix_ is no covariance off the diagonal, as it multiplies column
# j by θⱼ² instead of entry ij by θᵢθⱼ, though its diagonal and so its standard errors are
# right), BG/NBD and Gamma-Gamma independently; CLV = Σ_{i=1..12} (E[X(30i days)] − E[X(30(i−1) days)]) × E[M]
# / 1.01^i with lifetimes' own conditional expectations; 5th and 95th percentiles (numpy's
# linear interpolation). Many more draws than crmlens's 1000, so the peer's Monte Carlo error
# is small beside crmlens's.
DRAWS = 20000
ids = [1, 2, 3, 11, 157]
c = spend.set_index("ID").loc[ids]
months = np.arange(0, 13)
weeks = 30.0 * months / 7.0
rng = np.random.default_rng(2357)


def draws_of(fitter):
    theta = fitter.params_.to_numpy()
    log_cov = np.linalg.inv(fitter._hessian_) / fitter.data["weights"].sum()
    return np.exp(rng.multivariate_normal(np.log(theta), log_cov, size=DRAWS))


purchase, spend_draws = draws_of(bgf), draws_of(ggf)
clv = np.zeros((DRAWS, len(ids)))
for d in range(DRAWS):
    bgf.params_ = pd.Series(purchase[d], index=["r", "alpha", "a", "b"])
    ggf.params_ = pd.Series(spend_draws[d], index=["p", "q", "v"])
    e = np.array([bgf.conditional_expected_number_of_purchases_up_to_time(w, c.x, c.t_x, c["T"])
                  if w > 0 else np.zeros(len(ids)) for w in weeks])
    value = ggf.conditional_expected_average_profit(c.x, c.zbar).to_numpy()
    clv[d] = ((e[1:] - e[:-1]) / 1.01 ** months[1:, None]).sum(axis=0) * value
print(f"CLV 90% interval, 12 months of 30 days, discount 0.01/month, {DRAWS} draws")
for k, i in enumerate(ids):
    low, high = np.percentile(clv[:, k], [5, 95])
    print(f"  customer {i:4} (x={c.x[i]}, t_x={c.t_x[i]}, T={c['T'][i]}, m={c.zbar[i]}): "
          f"{low:.4g} … {high:.4g}")
