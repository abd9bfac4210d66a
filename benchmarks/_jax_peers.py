"""The JAX peers of ``benchmarks/peers.py`` (ported from shared/bench/peers_jax.py); see that module's docstring.

Each ``make_*`` takes ``(task, x, y, init, seed)`` and returns ``(epoch, params)``: ``epoch()`` trains one epoch
and blocks until it is done, ``params()`` gives the weights as NumPy ``(kernels, biases)`` for the shared loss.
jax and optax are imported inside the functions, so this module imports without them; ``peers.py`` sets the XLA
thread settings before jax is first imported.
"""

from __future__ import annotations

import numpy as np

STACK = 16  # models trained in lockstep by jax_scan_stack16


def stack_rates(k: int = STACK) -> np.ndarray:
    """The stacked peers' learning rates, 1e-3 * 2**((k - 4) / 4): model 4 has the lean loop's 1e-3."""
    return (1e-3 * 2 ** ((np.arange(k) - 4) / 4)).astype(np.float32)


def labels(task, y):
    """Labels as the JAX peers consume them: int32 classes, float32 0/1 targets."""
    return y.astype(np.int32) if task["sizes"][-1] > 1 else y.astype(np.float32)


def _optimizer(task, rate):
    """optax's Adam(1e-3, .9, .999, eps 1e-7) or RMSprop(1e-3, rho .9, eps 1e-7 inside the square root, as Keras
    and the lean loop); ``rate`` may be a traced scalar (the stacked peer's per-model rates)."""
    import optax

    if task["optimizer"] == "adam":
        return optax.adam(rate, b1=0.9, b2=0.999, eps=1e-7)
    return optax.rmsprop(rate, decay=0.9, eps=1e-7)  # eps_in_sqrt=True, optax's default


def _step(task):
    """One train step on ``state = (params, opt_state, key)``, shared by every JAX peer."""
    import jax
    import jax.numpy as jnp
    import optax

    depth, rate, multiclass = len(task["sizes"]) - 1, task["dropout"], task["sizes"][-1] > 1

    def loss_fn(params, xb, yb, key):
        h = xb
        for layer, (w, b) in enumerate(params):
            h = h @ w + b
            if layer < depth - 1:
                h = jax.nn.relu(h)
                if rate and layer == depth - 2:
                    keep = jax.random.bernoulli(key, 1 - rate, h.shape)
                    h = jnp.where(keep, h * (1 / (1 - rate)), 0.0)
        if multiclass:
            return optax.softmax_cross_entropy_with_integer_labels(h, yb).mean()
        return optax.sigmoid_binary_cross_entropy(h[:, 0], yb).mean()

    def step(state, xb, yb, learning_rate=1e-3):
        params, opt_state, key = state
        key, sub = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb, sub)
        updates, opt_state = _optimizer(task, learning_rate).update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, key), loss

    return step


def _state(task, init, seed):
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(*init)]
    return params, _optimizer(task, 1e-3).init(params), jax.random.key(seed)


def _numpy_params(params, member=None):
    pick = (lambda a: np.asarray(a)) if member is None else (lambda a: np.asarray(a[member]))
    return [pick(w) for w, _ in params], [pick(b) for _, b in params]


def make_jax_jit(task, x, y, init, seed):
    """``jax.jit`` of the train step (state donated), one call per mini-batch on NumPy batches drawn like the lean
    loop's (NumPy permutation, fancy indexing); dispatch is asynchronous, one wait at the end of the epoch."""
    import jax

    train_step = jax.jit(_step(task), donate_argnums=0)
    holder = [_state(task, init, seed)]
    rng, batch, yl = np.random.default_rng(seed), task["batch"], labels(task, y)

    def epoch():
        state = holder[0]
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            j = order[start:start + batch]
            state, _ = train_step(state, x[j], yl[j])
        holder[0] = jax.block_until_ready(state)

    return epoch, lambda: _numpy_params(holder[0][0])


def _scan_epoch(step, n: int, batch: int, features: int):
    """The whole epoch as one function: on-device permutation, gather and reshape to (steps, batch, features),
    ``lax.scan`` of ``step`` over the full batches, then the remainder batch as one more step in the same program."""
    import jax

    full = n // batch
    cut = full * batch

    def run_epoch(state, xd, yd):
        params, opt_state, key = state
        if key.ndim:  # a stack: one key per model; the permutation draws from model 0's
            keys = jax.vmap(jax.random.split)(key)
            key, key_perm = keys[:, 0], keys[0, 1]
        else:
            key, key_perm = jax.random.split(key)
        order = jax.random.permutation(key_perm, n)
        xs = xd[order[:cut]].reshape(full, batch, features)
        ys = yd[order[:cut]].reshape((full, batch) + yd.shape[1:])
        state, losses = jax.lax.scan(lambda carry, xy: step(carry, *xy), (params, opt_state, key), (xs, ys))
        if cut < n:
            state, _ = step(state, xd[order[cut:]], yd[order[cut:]])
        return state, losses.mean()

    return run_epoch


def make_jax_scan(task, x, y, init, seed):
    """The whole epoch one jitted call (``_scan_epoch``), data on the device once, state donated."""
    import jax

    run_epoch = jax.jit(_scan_epoch(_step(task), len(x), task["batch"], x.shape[1]), donate_argnums=0)
    xd, yd = jax.device_put(x), jax.device_put(labels(task, y))
    holder = [_state(task, init, seed)]

    def epoch():
        state, _ = run_epoch(holder[0], xd, yd)
        holder[0] = jax.block_until_ready(state)

    return epoch, lambda: _numpy_params(holder[0][0])


def make_jax_scan_stack(task, x, y, init, seed, k: int = STACK, member: int = 4):
    """``k`` copies of the model from the same start, learning rates ``stack_rates(k)``, trained in lockstep:
    ``jax.vmap`` of the train step (each model its own optimizer state and dropout key, every model the same
    batches) inside ``jax_scan``'s scanned epoch. ``params()`` gives model ``member``'s weights (rate 1e-3)."""
    import jax
    import jax.numpy as jnp

    step = jax.vmap(_step(task), in_axes=(0, None, None, 0))
    rates = jnp.asarray(stack_rates(k))
    run_epoch = jax.jit(_scan_epoch(lambda state, xb, yb: step(state, xb, yb, rates), len(x), task["batch"],
                                    x.shape[1]), donate_argnums=0)
    xd, yd = jax.device_put(x), jax.device_put(labels(task, y))
    params = [(jnp.tile(w, (k, 1, 1)), jnp.tile(b, (k, 1))) for w, b in zip(*init)]
    opt_state = jax.vmap(_optimizer(task, 1e-3).init)(params)
    holder = [(params, opt_state, jax.random.split(jax.random.key(seed), k))]

    def epoch():
        state, _ = run_epoch(holder[0], xd, yd)
        holder[0] = jax.block_until_ready(state)

    return epoch, lambda: _numpy_params(holder[0][0], member)
