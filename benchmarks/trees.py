"""Which library fits the study's trees: scikit-learn's exact ``GradientBoostingClassifier``, its histogram
``HistGradientBoostingClassifier`` and LightGBM (if installed) at the paper's boosting settings (100 trees of
depth 3, learning rate 0.1, 15 of 31 features per split); scikit-learn's ``RandomForestClassifier`` and
LightGBM's random-forest mode at depth 20 with 5 features per split; the study's fast forest (10% bootstrap
samples, leaves of at least 200 rows). One study period's worth of rows (375,000
x 31, a weak planted signal), one thread each, seconds to fit and ROC AUC on 100,000 new rows.

    python benchmarks/trees.py [--rows 375000] [--trees 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score


def data(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows + 100_000, 31)).astype(np.float32)
    y = (-0.1 * X[:, 0] + 0.05 * X[:, 1] * X[:, 2] + rng.standard_normal(len(X)) > 0).astype(int)
    return X[:rows], y[:rows], X[rows:], y[rows:]


def timed(model, X, y, X_new, y_new, rows_used: int | None = None) -> dict:
    rows_used = rows_used or len(X)
    start = time.perf_counter()
    model.fit(X[:rows_used], y[:rows_used])
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds * len(X) / rows_used, 2), "rows_timed": rows_used,
            "auc": round(roc_auc_score(y_new, model.predict_proba(X_new)[:, 1]), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=375_000)
    parser.add_argument("--trees", type=int, default=10, help="forest trees timed (the paper grows 1,000)")
    args = parser.parse_args()
    X, y, X_new, y_new = data(args.rows)
    out = {"rows": args.rows}
    out["gbt_sklearn_hist"] = timed(HistGradientBoostingClassifier(
        max_iter=100, max_depth=3, learning_rate=0.1, max_features=15 / 31, early_stopping=False, random_state=0),
        X, y, X_new, y_new)
    out["gbt_sklearn_exact (time scaled from a fifth of the rows)"] = timed(GradientBoostingClassifier(
        n_estimators=100, max_depth=3, learning_rate=0.1, max_features=15, random_state=0), X, y, X_new, y_new,
        rows_used=args.rows // 5)
    out[f"raf_sklearn_{args.trees}_trees"] = timed(RandomForestClassifier(
        args.trees, max_depth=20, max_features=5, n_jobs=1, random_state=0), X, y, X_new, y_new)
    out[f"raf_sklearn_{args.trees}_trees_fast_settings"] = timed(RandomForestClassifier(
        args.trees, max_depth=20, max_features=5, max_samples=0.1, min_samples_leaf=200, n_jobs=1, random_state=0),
        X, y, X_new, y_new)
    if importlib.util.find_spec("lightgbm"):
        import lightgbm

        out["gbt_lightgbm"] = timed(lightgbm.LGBMClassifier(
            n_estimators=100, max_depth=3, num_leaves=8, learning_rate=0.1, feature_fraction_bynode=15 / 31,
            n_jobs=1, verbose=-1), X, y, X_new, y_new)
        out[f"raf_lightgbm_{args.trees}_trees"] = timed(lightgbm.LGBMClassifier(
            boosting_type="rf", n_estimators=args.trees, max_depth=20, num_leaves=2**15, min_child_samples=1,
            subsample=0.632, subsample_freq=1, feature_fraction_bynode=5 / 31, n_jobs=1, verbose=-1),
            X, y, X_new, y_new)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
