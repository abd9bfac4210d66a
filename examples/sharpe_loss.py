"""A Sharpe-ratio loss written with ``deepfin.ops``: a network learns long-short portfolio weights.

Synthetic returns for ``N_ASSETS`` assets: each asset's next-period return is a known linear function
of its two features, plus a market factor shared by all assets and idiosyncratic noise. The network
maps every asset's features to one raw weight per asset (tanh output); the weights are normalised to
unit gross exposure, and the loss is minus the Sharpe ratio of the portfolio's return over the batch.
Everything in the loss is written with ``deepfin.ops``, as it would be with ``keras.ops``:

    python examples/sharpe_loss.py

prints the annualised Sharpe ratio of the network's portfolio and of equal weights in sample, and on a
fresh draw of the same market, where the portfolio that knows the true expected returns shows the best
that could be learned.
"""

import numpy as np

import deepfin
from deepfin import layers, ops

N_ASSETS, N_FEATURES = 8, 2
BETA = np.array([0.0012, -0.0006])  # next-period return per unit of each feature
PERIODS_PER_YEAR = 252


def synthetic_returns(n_periods: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``(n_periods, N_ASSETS * N_FEATURES)``, next-period returns ``(n_periods, N_ASSETS)`` and
    the expected part of those returns (what the features explain)."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n_periods, N_ASSETS, N_FEATURES))
    expected = features @ BETA
    market = 0.0003 + 0.01 * rng.standard_normal((n_periods, 1))
    returns = expected + market + 0.01 * rng.standard_normal((n_periods, N_ASSETS))
    return features.reshape(n_periods, -1).astype("float32"), returns.astype("float32"), expected


def unit_gross(raw):
    """Weights scaled so that their absolute values sum to 1 on every row (long-short, no leverage)."""
    return raw / (ops.sum(ops.abs(raw), axis=-1, keepdims=True) + 1e-8)


def negative_sharpe(y_true, y_pred):
    """Minus the Sharpe ratio, over the batch, of the portfolio held with weights ``unit_gross(y_pred)``."""
    portfolio = ops.sum(unit_gross(y_pred) * y_true, axis=-1)
    return -ops.mean(portfolio) / (ops.std(portfolio) + 1e-8)


def annualised_sharpe(portfolio_returns: np.ndarray) -> float:
    return float(np.mean(portfolio_returns) / np.std(portfolio_returns) * np.sqrt(PERIODS_PER_YEAR))


def run(n_periods: int = 8000, epochs: int = 10, seed: int = 0, verbose: bool = True) -> dict:
    """Train the weight network on one draw of the market and test it on a second, fresh draw.

    Returns the loss per epoch and annualised Sharpe ratios: the network's and equal weights' in
    sample, and out of sample also the known-truth portfolio's (market-neutral weights proportional
    to the true expected returns), the best a network could learn.
    """
    x, returns, _ = synthetic_returns(n_periods, seed)
    x_new, returns_new, expected_new = synthetic_returns(n_periods, seed + 1)
    deepfin.utils.set_random_seed(seed)
    model = deepfin.Sequential([
        layers.Input((x.shape[1],)),
        layers.Dense(32, activation="tanh"),
        layers.Dense(N_ASSETS, activation="tanh"),
    ])
    model.compile(optimizer=deepfin.optimizers.Adam(0.003), loss=negative_sharpe)
    history = model.fit(x, returns, batch_size=250, epochs=epochs, verbose=0)

    def network(features, realised):
        weights = ops.convert_to_numpy(unit_gross(model.predict(features, verbose=0)))
        return annualised_sharpe(np.sum(weights * realised, axis=1))

    truth = ops.convert_to_numpy(unit_gross(expected_new - np.mean(expected_new, axis=1, keepdims=True)))
    result = {
        "loss": history.history["loss"],
        "network_sharpe": network(x, returns),
        "equal_weight_sharpe": annualised_sharpe(np.mean(returns, axis=1)),
        "network_sharpe_out_of_sample": network(x_new, returns_new),
        "equal_weight_sharpe_out_of_sample": annualised_sharpe(np.mean(returns_new, axis=1)),
        "known_truth_sharpe_out_of_sample": annualised_sharpe(np.sum(truth * returns_new, axis=1)),
    }
    if verbose:
        print(f"loss (minus the batch Sharpe ratio): {result['loss'][0]:.3f} -> {result['loss'][-1]:.3f}")
        print(f"annualised Sharpe ratio in sample:     network {result['network_sharpe']:.2f}, "
              f"equal weight {result['equal_weight_sharpe']:.2f}")
        print(f"annualised Sharpe ratio out of sample: network {result['network_sharpe_out_of_sample']:.2f}, "
              f"equal weight {result['equal_weight_sharpe_out_of_sample']:.2f}, "
              f"known truth {result['known_truth_sharpe_out_of_sample']:.2f}")
    return result


if __name__ == "__main__":
    run()
