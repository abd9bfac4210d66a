"""Memory: a label set by a shock 39 steps back, learned by an LSTM, missed by a window network and a simple RNN.

Not one of the course texts' experiments: it shows the memory the LSTM gives, the layer of the ``lstm`` study
family (Fischer and Krauss, 2018). The feed-forward network reads a short window; the simple RNN reads it all.
Each sample is a series of 40 standard-normal moves; its label is the sign of the first (39 steps before the
last). Three networks read it:

- window: a feed-forward network (Dense 32 relu) on the last 10 moves only, the usual lagged-returns set-up.
  The shock is not in its inputs: it cannot beat a coin (0.5).
- rnn: a SimpleRNN(16) over all 40 moves. The shock is in its inputs, but the gradient that would teach the
  network to keep it shrinks by the recurrent kernel's norm times tanh's slope at every step back, so after
  39 steps almost nothing of it reaches the first move (Bengio, Simard and Frasconi, 1994).
- lstm: an LSTM(16) over all 40 moves: its carry is updated additively through the forget gate, so once the
  gate opens the gradient reaches the first move undiminished and the network learns to keep it (Hochreiter
  and Schmidhuber, 1997).

All train with Adam (0.01), batches of 64, on 4,000 series, tested on 2,000 more. Two views through time:
the gradient at initialization, the norm over a probe batch of d(logit) / d(move t) for each step t (the
logit: the output before its sigmoid), which is what training starts from; and, after training, the mean
change of the predicted probability when move t changes sign, which is what the network learned to depend on.
At initialization neither recurrent network passes much back from 39 steps (the LSTM's forget gate starts near
0.73, and 0.73 ** 39 is 5e-6); what differs is that the LSTM can learn to open its gate and carry the shock,
and the simple RNN cannot learn to keep it. Writes gradient_through_time.png (both views, by steps back from
the last move) and learning_curves.png.
"""

from __future__ import annotations

import numpy as np

from deepfin.demos._common import Output
from deepfin.engine import fused
from deepfin.engine.tensor import Tensor
from deepfin.layers import LSTM, Dense, Input, Lambda, SimpleRNN
from deepfin.models import Sequential
from deepfin.optimizers import Adam
from deepfin.utils import set_random_seed
from deepfin.viz import plot_history
from deepfin.viz._figures import new_figure

STEPS, WINDOW, UNITS = 40, 10, 16
NETWORKS = ("window", "rnn", "lstm")


def series(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` series of ``STEPS`` moves (n, STEPS, 1) and their labels: 1 where the first move is positive."""
    x = rng.standard_normal((n, STEPS, 1)).astype(np.float32)
    return x, (x[:, 0, 0] > 0).astype(np.float32)


def build(network: str) -> Sequential:
    """The ``network`` (one of ``NETWORKS``) on series of ``STEPS`` moves, compiled with Adam and accuracy."""
    if network == "window":
        body = [Lambda(lambda x: x[:, -WINDOW:, 0], output_shape=(WINDOW,)), Dense(32, activation="relu")]
    elif network == "rnn":
        body = [SimpleRNN(UNITS)]
    elif network == "lstm":
        body = [LSTM(UNITS)]
    else:
        raise ValueError(f"network must be one of {NETWORKS}. Received: network={network!r}")
    model = Sequential([Input((STEPS, 1)), *body, Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def gradient_through_time(model: Sequential, x: np.ndarray) -> np.ndarray:
    """Compute the norm over the rows of ``x`` of d(logit) / d(move t), for t = 0 .. STEPS - 1.

    The logit is the last Dense layer's output before its sigmoid.
    """
    inputs = Tensor(x, requires_grad=True)
    hidden = inputs
    for layer in model.layers[:-1]:
        hidden = layer(hidden, training=False)
    last = model.layers[-1]
    fused.dense(hidden, last.kernel, last.bias).sum().backward()
    return np.sqrt((inputs.grad[:, :, 0] ** 2).sum(axis=0))


def run(out=None, quick: bool = False, epochs: int | None = None) -> dict:
    """Run the demo: the three networks' gradients, training and dependence; write the two plots.

    Parameters
    ----------
    out : str, Path or None, default None
        The folder for the plots; None: ``runs/sequence-memory``.
    quick : bool, default False
        Train 10 epochs rather than 25.
    epochs : int or None, default None
        Epochs, instead of those.

    Returns
    -------
    dict
        Per network ("window", "rnn", "lstm"): test ``accuracy``, ``first_move_gradient`` and
        ``last_move_gradient`` (at initialization) and ``first_move_effect`` (after training).
    """
    output = Output(out, "sequence-memory")
    epochs = epochs or (10 if quick else 25)
    rng = np.random.default_rng(0)
    (x_train, y_train), (x_test, y_test) = series(4000, rng), series(2000, rng)
    print(f"{STEPS}-step series, label: the sign of the first move ({STEPS - 1} steps before the last); "
          f"{epochs} epochs (chance: 0.50)")
    print("  gradient: |d logit / d move| at initialization; effect: the trained network's mean change of")
    print("  probability when the move's sign flips")
    print(f"  {'network':<8} {'test acc':>9} {'grad, first':>13} {'grad, last':>13} {'effect, first':>13}")
    histories, results, gradients, dependence = {}, {}, {}, {}
    for network in NETWORKS:
        set_random_seed(0)
        model = build(network)
        gradients[network] = gradient_through_time(model, x_test[:256])  # what training starts from
        histories[network] = model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0,
                                       validation_data=(x_test, y_test))
        dependence[network] = flip_effect(model, x_test[:256])
        results[network] = r = {"accuracy": histories[network].history["val_accuracy"][-1],
                                "first_move_gradient": float(gradients[network][0]),
                                "last_move_gradient": float(gradients[network][-1]),
                                "first_move_effect": float(dependence[network][0])}
        print(f"  {network:<8} {r['accuracy']:>9.3f} {r['first_move_gradient']:>13.2e} "
              f"{r['last_move_gradient']:>13.2e} {r['first_move_effect']:>13.3f}")
    output.save(plot_through_time(gradients, dependence), "gradient_through_time.png")
    output.save(plot_history(histories, keys=["loss", "accuracy"], title="Learning curves (validation: test set)"),
                "learning_curves.png")
    output.announce()
    return results


def flip_effect(model: Sequential, x: np.ndarray) -> np.ndarray:
    """Compute, for each step t, the mean absolute change of the predicted probability when move t changes sign.

    That is how much the trained network's output depends on each move (a gradient would miss what saturated
    gates carry).
    """
    base = model.predict(x, verbose=0)[:, 0]
    effects = np.empty(STEPS)
    for t in range(STEPS):
        flipped = x.copy()
        flipped[:, t] *= -1
        effects[t] = np.abs(model.predict(flipped, verbose=0)[:, 0] - base).mean()
    return effects


def plot_through_time(gradients: dict, dependence: dict):
    """Plot, by steps back from the last move, each network's gradient at initialization and its dependence.

    The gradient is on a log scale; the dependence is the trained output's on each move (``flip_effect``).
    """
    fig, (left, right) = new_figure(ncols=2, panel_size=(6.0, 4.5))
    back = np.arange(STEPS)[::-1]
    for network in gradients:
        left.semilogy(back, np.where(gradients[network] > 0, gradients[network], np.nan), marker=".", label=network)
        right.plot(back, dependence[network], marker=".", label=network)
    for ax in (left, right):
        ax.axvline(STEPS - 1, color="grey", linestyle=":", label="the shock")
        ax.set_xlabel("steps back from the last move")
        ax.legend()
    left.set_ylabel("|d logit / d move|")
    left.set_title("Gradient through time at initialization")
    right.set_ylabel("mean |change of probability| when the move flips")
    right.set_title("What the trained network depends on")
    return fig
