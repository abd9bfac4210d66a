"""deepfin against its peers, side by side in one run: seconds per training epoch.

Tasks (the seeds' models):
  asset  44 -> 64 relu -> 64 relu -> Dropout(0.5) -> 1 sigmoid, Adam, binary CE, batch 32, 200k rows
  mnist  784 -> 512 relu -> 10 softmax, RMSprop, sparse CE, batch 128, 60k rows
Adam(1e-3, .9, .999, eps 1e-7) and RMSprop(1e-3, rho .9, eps 1e-7) everywhere but PyTorch and scikit-learn (their
defaults). Float32, shuffled mini-batches every epoch, the last partial batch included.

Peers (every one starts from the same weights, drawn once per task with the lean loop's scheme -- He-normal
sqrt(2/fan_in), zero biases -- but scikit-learn, which draws its own):
  lean_numpy   a lean hand-fused NumPy loop (the yardstick of shared/bench/peers_bench.py, with Keras's optimizer
               formulas), weights and optimizer state kept across epochs
  deepfin      deepfin's Keras-style ``model.fit(x, y, batch_size, epochs=1, verbose=0)``, one call per epoch, on the
               compiled kernels; deepfin_eager: the same with ``deepfin.backend.set_compiled(False)`` (the
               eager engine, the reference: NumPy all through); deepfin_subclassed: the same layers in a
               subclassed ``Model`` (its own ``call``), which the kernels do not cover: the eager engine runs it,
               its optimizer updates in one compiled pass (``deepfin.optimizers.compiled``), as every model the
               kernels do not cover does
  torch        PyTorch without a DataLoader (randperm + indexing), torch.optim's Adam/RMSprop
  sklearn_mlp  scikit-learn's MLPClassifier (Adam on both tasks), ``partial_fit``: one epoch per call
  keras_jax    Keras 3 on JAX, ``compile(steps_per_execution=100)`` (100 calls of its one-step jitted function per
               ``train_function`` call, saving the per-step callback work), ``model.fit`` one epoch per call. When
               jax is installed the benchmark sets KERAS_BACKEND=jax before Keras is first imported (Keras runs on
               one backend per process); without jax, or with KERAS_BACKEND exported to another backend, the peer is
               ``keras`` on that backend (by default TensorFlow if present, else PyTorch, which ``.[dev]``
               installs) with compile's defaults
  jax_jit      ``jax.jit`` of the train step (state donated), one Python call per mini-batch on NumPy batches
               (NumPy permutation and indexing, like the lean loop); optax's adam/rmsprop; one wait per epoch
  jax_scan     the whole epoch one jitted call: on-device permutation, gather and reshape to (steps, batch, ...),
               ``lax.scan`` of the same train step over the batches, the remainder batch one more step in the same
               program; the data is put on the device once, outside the timed epochs
With ``--stack`` (asset task), 16 models from the same start, learning rates 1e-3 * 2**((k - 4) / 4), k = 0..15,
trained in lockstep on the same batches; their time is reported per model-epoch (an epoch of all 16 / 16):
  jax_scan_stack16  ``jax.vmap`` of the train step (per-model optimizer state and dropout key) in jax_scan's epoch
  deepfin_stack16   ``deepfin.tuning.fit_stack`` on 16 compiled copies of deepfin's model, one call per epoch (each
                    call starts fresh Adam moments, as the stacked trainer keeps none between calls; the cost is
                    the same per epoch)
Optimizer formulas: optax's rmsprop keeps eps inside the square root (its default), as Keras, deepfin and the lean
loop do: from the same start and batch order jax_jit's weights equal the lean loop's to float32 rounding (2e-7
after an epoch of 2,000 rows). optax's adam adds eps to sqrt(v_hat), Keras's form (deepfin, the lean loop) to
sqrt(v), i.e. eps / sqrt(1 - b2**t) to sqrt(v_hat): in the first steps a weight with tiny gradients moves a little
differently (1e-3 apart after 63 steps with dropout off; 4e-7 with Keras's form written for optax). The same work
per step; the losses agree (the check below).

Timing: the libraries are imported first (once, printed). Then per task every peer is built and trains one warm-up
epoch on the full data (printed as "1st": it includes building, every jit/XLA compile -- full and remainder batch
shapes -- and Keras's tracing), then ``--rounds`` timed epochs run round-robin across peers (epoch 1 of every peer,
then epoch 2, ...) so background load hits them alike. The median is reported with its ratio to the lean loop's
median of the same run, and the minimum.
Correctness: the full-data loss (eval mode: no dropout) of every peer's weights is computed by one NumPy function
(``eval_loss``) from the shared start, after the warm-up epoch and after the last; "check" says ok when the final
loss fell below the start's and is within 10% of the lean loop's. scikit-learn is not checked: it starts from its
own weights and has no Dropout. The stacked peers report the model with rate 1e-3 (k = 4).

Threads: before jax is first imported the benchmark sets, unless already in the environment,
PJRT_NPROC=<the cores this process may use> (the size of XLA's CPU intra-op pool; what jaxlib's CPU client reads)
and XLA_FLAGS=--xla_cpu_multi_thread_eigen=true (XLA's default, stated). Export either to override. PJRT_NPROC=N
gives N "tf_XLAEigen" threads (counted on jaxlib 0.10.2); there an often-quoted "intra_op_parallelism_threads=N"
token in XLA_FLAGS changes nothing (with leading dashes XLA aborts on it as an unknown flag). NumPy's BLAS and
PyTorch run with their own defaults (no thread variables set).

    python benchmarks/peers.py [--rows-asset N] [--rows-mnist N] [--rounds R] [--peers a,b] [--tasks t,u] [--stack]

Peers whose library is not installed are skipped with a note; ``make bench`` installs ``.[dev,bench]`` (jax, optax).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import os
import statistics
import time
import warnings

import numpy as np

HAS_JAX = importlib.util.find_spec("jax") is not None
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
os.environ.setdefault("PJRT_NPROC", str(CORES))  # read once, when jax starts its CPU client
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true")
os.environ.setdefault(  # Keras picks its backend when first imported: here, before any peer imports it
    "KERAS_BACKEND", "jax" if HAS_JAX else "tensorflow" if importlib.util.find_spec("tensorflow") else "torch")
KERAS_ON_JAX = os.environ["KERAS_BACKEND"] == "jax"

from _jax_peers import STACK, labels, make_jax_jit, make_jax_scan, make_jax_scan_stack, stack_rates  # noqa: E402

TASKS = {
    "asset": dict(sizes=[44, 64, 64, 1], batch=32, optimizer="adam", dropout=0.5, rows=200_000),
    "mnist": dict(sizes=[784, 512, 10], batch=128, optimizer="rmsprop", dropout=0.0, rows=60_000),
}
TOLERANCE = 0.10  # the final loss within 10% of the lean loop's


def make_data(task: dict, rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_in, n_out = task["sizes"][0], task["sizes"][-1]
    if n_out == 1:
        x = rng.standard_normal((rows, n_in), dtype=np.float32)
        y = ((x[:, :5].sum(1) + np.sin(3 * x[:, 5]) + rng.standard_normal(rows)) > 0).astype(np.float32)
    else:
        x = rng.random((rows, n_in), dtype=np.float32)
        y = rng.integers(0, n_out, rows)
    return x, y


def init_params(task: dict, seed: int = 0):
    """The shared start: He-normal kernels (the lean loop's scheme), zero biases, float32."""
    rng = np.random.default_rng(seed)
    sizes = task["sizes"]
    kernels = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    return kernels, [np.zeros(b, np.float32) for b in sizes[1:]]


def eval_loss(task: dict, kernels, biases, x, y) -> float:
    """Mean full-data loss of the weights, eval mode (no dropout), accumulated in float64: every peer's yardstick."""
    h = x
    for layer, (w, b) in enumerate(zip(kernels, biases)):
        h = h @ np.asarray(w) + np.asarray(b)
        if layer < len(kernels) - 1:
            h = np.maximum(h, 0)
    h = h.astype(np.float64)
    if task["sizes"][-1] > 1:
        top = h.max(1, keepdims=True)
        return float((np.log(np.exp(h - top).sum(1)) + top[:, 0] - h[np.arange(len(y)), y]).mean())
    z = h[:, 0]
    return float((np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean())


def _flat(init) -> list[np.ndarray]:
    """(kernels, biases) as Keras's and deepfin's ``get_weights`` order them: kernel, bias, kernel, bias..."""
    return [a.copy() for pair in zip(*init) for a in pair]


def _unflat(weights) -> tuple[list, list]:
    return weights[0::2], weights[1::2]


# ----------------------------------------------------------------------------- peers
# Each peer: make(task, x, y, init, seed) -> (epoch, params); epoch() trains one epoch, params() gives the weights.
def lean_numpy(task, x, y, init, seed):
    """Hand-fused forward/backward, float32, in-place Adam/RMSprop: the floor to compare with."""
    rng = np.random.default_rng(seed)
    sizes, batch, rate = task["sizes"], task["batch"], task["dropout"]
    weights, biases = _unflat(_flat(init))
    params = weights + biases
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
    multiclass = sizes[-1] > 1
    targets = np.eye(sizes[-1], dtype=np.float32)[y] if multiclass else y.reshape(-1, 1)
    depth = len(weights)
    steps = [0]

    def epoch():
        step = steps[0]
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            j = order[start:start + batch]
            xb, yb = x[j], targets[j]
            acts, mask, h = [xb], None, xb
            for layer in range(depth):
                z = h @ weights[layer]
                z += biases[layer]
                if layer < depth - 1:
                    np.maximum(z, 0, out=z)
                    if rate and layer == depth - 2:
                        mask = (rng.random(z.shape, dtype=np.float32) >= rate).astype(np.float32) / (1 - rate)
                        z *= mask
                h = z
                acts.append(h)
            if multiclass:
                e = np.exp(h - h.max(1, keepdims=True))
                p = e / e.sum(1, keepdims=True)
            else:
                p = 1 / (1 + np.exp(-h))
            d = (p - yb) / len(j)
            grads_w, grads_b = [None] * depth, [None] * depth
            for layer in range(depth - 1, -1, -1):
                grads_w[layer] = acts[layer].T @ d
                grads_b[layer] = d.sum(0)
                if layer:
                    d = d @ weights[layer].T
                    if rate and layer == depth - 1:
                        d *= mask
                    d *= acts[layer] > 0
            step += 1
            grads = grads_w + grads_b
            if task["optimizer"] == "adam":
                alpha = lr * (1 - b2**step) ** 0.5 / (1 - b1**step)
                for p_, g, m_, v_ in zip(params, grads, m, v):
                    m_ += (g - m_) * (1 - b1)
                    v_ += (g * g - v_) * (1 - b2)
                    p_ -= alpha * m_ / (np.sqrt(v_) + eps)
            else:
                for p_, g, v_ in zip(params, grads, v):
                    v_ *= 0.9
                    v_ += 0.1 * g * g
                    p_ -= lr * g / np.sqrt(v_ + eps)
        steps[0] = step

    return epoch, lambda: (weights, biases)


def _sequential(lib, task):
    """The task's model in deepfin or Keras (the same API)."""
    sizes = task["sizes"]
    model = lib.Sequential([lib.layers.Input((sizes[0],))])
    for i, units in enumerate(sizes[1:-1]):
        model.add(lib.layers.Dense(units, activation="relu"))
        if task["dropout"] and i == len(sizes) - 3:
            model.add(lib.layers.Dropout(task["dropout"]))
    model.add(lib.layers.Dense(sizes[-1], activation="sigmoid" if sizes[-1] == 1 else "softmax"))
    return model


def _loss_name(task) -> str:
    return "binary_crossentropy" if task["sizes"][-1] == 1 else "sparse_categorical_crossentropy"


def _subclassed(lib, task):
    """The task's layers in a subclassed ``Model`` whose ``call`` runs them: a model the kernels do not cover."""
    chain = _sequential(lib, task).layers

    class Subclassed(lib.Model):
        def __init__(self):
            super().__init__()
            self.chain = chain

        def call(self, inputs, training=None):
            for layer in self.chain:
                inputs = layer(inputs, training=training)
            return inputs

    model = Subclassed()
    model.build((None, task["sizes"][0]))
    return model


def deepfin_fit(task, x, y, init, seed, compiled: bool = True, make=_sequential):
    """deepfin's ``fit``: on the compiled kernels, or with ``compiled=False`` on the eager engine."""
    import deepfin

    deepfin.utils.set_random_seed(seed)
    model = make(deepfin, task)
    model.compile(optimizer=task["optimizer"], loss=_loss_name(task))
    model.set_weights(_flat(init))

    def epoch():
        deepfin.backend.set_compiled(compiled)
        try:
            model.fit(x, y, batch_size=task["batch"], epochs=1, verbose=0)
        finally:
            deepfin.backend.set_compiled(True)

    return epoch, lambda: _unflat(model.get_weights())


def deepfin_eager(task, x, y, init, seed):
    return deepfin_fit(task, x, y, init, seed, compiled=False)


def deepfin_subclassed(task, x, y, init, seed):
    return deepfin_fit(task, x, y, init, seed, make=_subclassed)


def deepfin_stack(task, x, y, init, seed):
    """STACK copies of deepfin's asset model (Adam at ``stack_rates()``) trained by ``fit_stack``, one epoch a call."""
    import deepfin
    from deepfin.tuning import fit_stack

    deepfin.utils.set_random_seed(seed)
    models = []
    for rate in stack_rates(STACK):
        model = _sequential(deepfin, task)
        model.compile(optimizer=deepfin.optimizers.Adam(learning_rate=float(rate)), loss=_loss_name(task))
        model.set_weights(_flat(init))
        models.append(model)

    def epoch():
        fit_stack(models, x, y, batch_size=task["batch"], epochs=1)

    return epoch, lambda: _unflat(models[4].get_weights())


def torch_lean(task, x, y, init, seed):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    sizes, modules = task["sizes"], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            modules.append(nn.ReLU())
            if task["dropout"] and i == len(sizes) - 3:
                modules.append(nn.Dropout(task["dropout"]))
    net = nn.Sequential(*modules)
    linears = [m for m in modules if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for linear, w, b in zip(linears, *init):
            linear.weight.copy_(torch.from_numpy(w.T))
            linear.bias.copy_(torch.from_numpy(b))
    optimizer = (torch.optim.Adam if task["optimizer"] == "adam" else torch.optim.RMSprop)(
        net.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss() if sizes[-1] == 1 else nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y).view(-1, 1) if sizes[-1] == 1 else torch.from_numpy(y).long()

    def epoch():
        order = torch.randperm(len(x))
        for start in range(0, len(x), task["batch"]):
            j = order[start:start + task["batch"]]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(net(xt[j]), yt[j]).backward()
            optimizer.step()

    def params():
        return ([m.weight.detach().numpy().T.copy() for m in linears],
                [m.bias.detach().numpy().copy() for m in linears])

    return epoch, params


def sklearn_mlp(task, x, y, init, seed):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=tuple(task["sizes"][1:-1]), batch_size=task["batch"], solver="adam",
                          random_state=seed)
    classes = np.unique(y)

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.partial_fit(x, y, classes=classes)  # one pass over the data, optimizer state kept

    return epoch, lambda: (model.coefs_, model.intercepts_)


def keras_fit(task, x, y, init, seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = _sequential(keras, task)
    model.compile(optimizer=task["optimizer"], loss=_loss_name(task), steps_per_execution=100 if KERAS_ON_JAX else 1)
    model.set_weights(_flat(init))
    yl = labels(task, y)

    def epoch():
        model.fit(x, yl, batch_size=task["batch"], epochs=1, verbose=0)

    return epoch, lambda: _unflat(model.get_weights())


KERAS = "keras_jax" if KERAS_ON_JAX else "keras"
# name: (make, the modules it needs, models it trains at once, checked: the same model from the shared start)
PEERS = {"lean_numpy": (lean_numpy, (), 1, True), "deepfin": (deepfin_fit, ("deepfin",), 1, True),
         "deepfin_eager": (deepfin_eager, ("deepfin",), 1, True),
         "deepfin_subclassed": (deepfin_subclassed, ("deepfin",), 1, True),
         "torch": (torch_lean, ("torch",), 1, True), "sklearn_mlp": (sklearn_mlp, ("sklearn",), 1, False),
         KERAS: (keras_fit, ("keras",), 1, True),
         "jax_jit": (make_jax_jit, ("jax", "optax"), 1, True), "jax_scan": (make_jax_scan, ("jax", "optax"), 1, True)}
STACK_PEERS = {f"deepfin_stack{STACK}": (deepfin_stack, ("deepfin",), STACK, True),
               f"jax_scan_stack{STACK}": (make_jax_scan_stack, ("jax", "optax"), STACK, True)}
STACK_TASKS = ("asset",)  # fit_stack trains sigmoid outputs (binary cross-entropy)


def versions() -> str:
    out = []
    for name in ("numpy", "torch", "scikit-learn", "keras", "jax", "jaxlib", "optax"):
        try:
            out.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return ", ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows-asset", type=int, default=TASKS["asset"]["rows"])
    parser.add_argument("--rows-mnist", type=int, default=TASKS["mnist"]["rows"])
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per peer, after one warm-up epoch")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"from {', '.join([*PEERS, *STACK_PEERS])}")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--stack", action="store_true",
                        help=f"add {', '.join(STACK_PEERS)} (asset task): {STACK} models in lockstep")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    everyone = {**PEERS, **STACK_PEERS}
    wanted = [KERAS if p == "keras" else p for p in args.peers.split(",") if p]
    if args.stack:
        wanted += [p for p in STACK_PEERS if p not in wanted]
    unknown = [p for p in wanted if p not in everyone]
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {list(everyone)}")
    peers = []
    for peer in wanted:
        missing = [m for m in everyone[peer][1] if importlib.util.find_spec(m) is None]
        if missing:
            print(f"skipped: {peer} ({', '.join(missing)} not installed)")
        else:
            peers.append(peer)
    if "lean_numpy" in peers:  # the yardstick first
        peers.remove("lean_numpy")
        peers.insert(0, "lean_numpy")

    started = time.perf_counter()  # imports outside every peer's "1st" time
    for module in sorted({m for p in peers for m in everyone[p][1]}):
        try:
            importlib.import_module(module)
        except Exception as error:  # e.g. KERAS_BACKEND exported for a backend that is not installed
            print(f"skipped: {', '.join(p for p in peers if module in everyone[p][1])} (import {module}: {error})")
            peers = [p for p in peers if module not in everyone[p][1]]
    print(f"{versions()} | imports {time.perf_counter() - started:.1f}s | KERAS_BACKEND={os.environ['KERAS_BACKEND']}"
          f" PJRT_NPROC={os.environ['PJRT_NPROC']} XLA_FLAGS={os.environ['XLA_FLAGS']} | cores {CORES}", flush=True)

    rows = {"asset": args.rows_asset, "mnist": args.rows_mnist}
    for name in args.tasks.split(","):
        task = TASKS[name]
        x, y = make_data(task, rows[name])
        init = init_params(task, args.seed)
        start = eval_loss(task, *init, x, y)
        print(f"\n{name}: sizes {task['sizes']}, batch {task['batch']}, {task['optimizer']}, {rows[name]} rows, "
              f"median of {args.rounds} timed epochs after a warm-up epoch; loss at the shared start {start:.4f}",
              flush=True)
        runs = {}
        for peer in peers:  # build + warm-up epoch: imports done, every compile and trace in here
            if peer in STACK_PEERS and name not in STACK_TASKS:
                continue
            try:
                began = time.perf_counter()
                epoch, params = everyone[peer][0](task, x, y, init, args.seed)
                epoch()
                first = time.perf_counter() - began
                runs[peer] = dict(epoch=epoch, params=params, first=first, times=[],
                                  loss1=eval_loss(task, *params(), x, y))
            except Exception as error:  # a peer that cannot run on this install is reported, not fatal
                print(f"  {peer:18s} failed: {type(error).__name__}: {error}", flush=True)
        for _ in range(args.rounds):  # timed epochs, round-robin
            for peer, run in list(runs.items()):
                try:
                    began = time.perf_counter()
                    run["epoch"]()
                    run["times"].append(time.perf_counter() - began)
                except Exception as error:
                    print(f"  {peer:18s} failed: {type(error).__name__}: {error}", flush=True)
                    del runs[peer]
        lean = runs.get("lean_numpy")
        lean_time = statistics.median(lean["times"]) if lean else None
        for run in runs.values():
            run["loss"] = eval_loss(task, *run["params"](), x, y)
        for peer, run in runs.items():
            _, _, models, same = everyone[peer]
            median = statistics.median(run["times"]) / models
            unit = "s/epoch      " if models == 1 else "s/model-epoch"
            ratio = f"{median / lean_time:6.2f}x lean" if lean_time else ""
            problems = []
            if not run["loss"] < start:
                problems.append("loss did not fall")
            if lean and abs(run["loss"] - lean["loss"]) > TOLERANCE * lean["loss"]:
                problems.append(f"loss off the lean loop's {lean['loss']:.4f}")
            check = ("; ".join(problems) or "ok") if same else "-"
            print(f"  {peer:18s} {median:8.3f} {unit} {ratio}  | min {min(run['times']) / models:.3f}"
                  f"  1st {run['first']:7.3f}  loss ep1 {run['loss1']:.4f} final {run['loss']:.4f}"
                  f"{'' if same else ' (own start)'}  check: {check}", flush=True)


if __name__ == "__main__":
    main()
