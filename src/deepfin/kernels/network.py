"""A model's compiled twin: flat buffers, the copies between them and the model, and calls into the kernels.

BLAS threads: a batch of a small network is over in microseconds, far too soon for a second BLAS thread to
help, and idle BLAS threads that spin while waiting for work (OpenBLAS's do) take the core from the one that
works. Products of a batch under ``_THREADED_FLOPS`` run on one thread (measured: ``deepfin run``'s training,
35 s with two BLAS threads against 7.8 s with one); larger ones (MNIST-size) keep every core.

The model stays the owner of its weights and its optimizer's state: ``load()`` copies them into the flat
buffers, ``store()`` copies them back. The trainer loads before a run of compiled steps and stores after it,
before anything else can read or change the weights (a callback, validation, the end of ``fit``).

Random draws: a Dropout layer draws from its generator what the eager ``Dropout`` would, in the same order (one
uniform number per row and unit, batch by batch, layer by layer), for a chunk of batches at a time, so a seeded
fit takes the same masks on either path.
"""

from __future__ import annotations

import contextlib

import numpy as np

from deepfin.kernels import mlp
from deepfin.kernels.program import Program, TrainingSetup, optimizer_settings
from deepfin.kernels.threads import one_blas_thread

_THREADED_FLOPS = 20e6  # a batch's forward products below this run on one BLAS thread


def batch_sizes(rows: int, batch_size: int) -> np.ndarray:
    """The sizes of the consecutive batches of ``batch_size`` that ``rows`` rows make (the last may be short).

    They weight the per-batch losses the kernels return.

    Parameters
    ----------
    rows : int
        The number of rows.
    batch_size : int
        The batch size.

    Returns
    -------
    np.ndarray
        The size of each batch, in order.

    Examples
    --------
    >>> from deepfin.kernels import batch_sizes
    >>> batch_sizes(10, 4).tolist()
    [4, 4, 2]
    """
    return np.minimum(batch_size, rows - batch_size * np.arange(-(-rows // batch_size)))


class CompiledNetwork:
    """Buffers and kernel calls for one model's ``Program`` (and, for training, its ``TrainingSetup``).

    Parameters
    ----------
    program : Program
        The model's operation tables (``layers_program``).
    setup : TrainingSetup or None
        The loss and optimizer (``training_setup``); ``None`` for inference only.
    optimizer : Optimizer or None, default None
        The model's optimizer, whose state the buffers copy for training.
    """

    def __init__(self, program: Program, setup: TrainingSetup | None, optimizer=None):
        self.program, self.setup, self.optimizer = program, setup, optimizer
        dtype = program.dtype
        self.params = np.zeros(program.n_params, dtype)
        self.grads = np.zeros_like(self.params)
        self.state = np.zeros(program.state_size, dtype)
        self.slots = np.zeros((len(setup.slots) if setup else 0, program.n_params), dtype)
        self._rows = 0
        self._work: tuple = ()
        self._uniforms = np.empty(0, dtype)
        self._loaded_slots: list[dict] = []
        ops = program.ops
        self._flops_per_row = 2.0 * float(np.sum(ops[:, mlp.OP_IN] * ops[:, mlp.OP_ZW] * (ops[:, mlp.OP_W] >= 0)))

    # ------------------------------------------------------------ the model's state in and out
    def load(self, training: bool = True) -> None:
        """Copy the model's weights and moving statistics into the buffers, and for training its optimizer's state.

        The optimizer is built first when it is not yet, as its first eager update would build it.

        Parameters
        ----------
        training : bool, default True
            Copy the optimizer's settings and state too (when the network has a training setup).

        Raises
        ------
        ValueError
            If the optimizer was built for other variables than the program's.
        """
        for variable, offset in self.program.variables:
            self.params[offset:offset + variable.size] = variable.data.ravel()
        for variable, offset in self.program.statistics:
            self.state[offset:offset + variable.size] = variable.data.ravel()
        if training and self.setup is not None:
            self.setup.hp = optimizer_settings(self.optimizer, self.program.dtype)
            if not self.optimizer.built:
                self.optimizer.build([variable for variable, _ in self.program.variables])
            self._loaded_slots = self._optimizer_slots()
            for (variable, offset), slots in zip(self.program.variables, self._loaded_slots):
                for row, name in enumerate(self.setup.slots):
                    self.slots[row, offset:offset + variable.size] = slots[name].ravel()

    def store(self) -> None:
        """Copy the buffers back into the model's weights, moving statistics and optimizer state."""
        for variable, offset in self.program.variables:
            variable.data[...] = self.params[offset:offset + variable.size].reshape(variable.shape)
        for variable, offset in self.program.statistics:
            variable.data[...] = self.state[offset:offset + variable.size].reshape(variable.shape)
        if self.setup is not None and self.setup.slots:  # into the arrays the last load read
            for (variable, offset), slots in zip(self.program.variables, self._loaded_slots):
                for row, name in enumerate(self.setup.slots):
                    slots[name][...] = self.slots[row, offset:offset + variable.size].reshape(variable.shape)

    def _optimizer_slots(self) -> list[dict]:
        """The optimizer's state arrays of each program variable, in program order.

        Refuses variables the optimizer was not built for, as its eager update does.
        """
        built = {id(v): i for i, v in enumerate(self.optimizer.model_variables)}
        state = self.optimizer.state_slots()
        slots = []
        for variable, _ in self.program.variables:
            if id(variable) not in built:
                raise ValueError(
                    f"Variable '{variable.path}' is not one this optimizer was built for. Build "
                    "a new optimizer (or call build()) for a new set of variables."
                )
            slots.append(state[built[id(variable)]])
        return slots

    # ------------------------------------------------------------ work areas
    def work_areas(self, rows: int) -> tuple:
        """Per-operation pre-activations, outputs and their gradients for batches of up to ``rows`` rows.

        The areas grow when ``rows`` exceeds what they hold, and are kept for later calls.

        Parameters
        ----------
        rows : int
            The largest batch.

        Returns
        -------
        tuple of np.ndarray
            ``(Z, A, DZ, DA, zoff, aoff)``: the flat areas and each operation's offsets in them.
        """
        if rows > self._rows:
            ops = self.program.ops
            z_sizes, a_sizes = ops[:, mlp.OP_ZW] * rows, ops[:, mlp.OP_OUT] * rows
            zoff = np.concatenate([[0], np.cumsum(z_sizes)[:-1]]).astype(np.int64)
            aoff = np.concatenate([[0], np.cumsum(a_sizes)[:-1]]).astype(np.int64)
            dtype = self.program.dtype
            z, a = np.zeros(max(int(z_sizes.sum()), 1), dtype), np.zeros(max(int(a_sizes.sum()), 1), dtype)
            self._work = (z, a, np.zeros_like(z), np.zeros_like(a), zoff, aoff)
            self._rows = rows
        return self._work

    def _draw_uniforms(self, rows: int) -> np.ndarray:
        """The dropout uniforms for a chunk of ``rows`` rows: each generator's draws, in the eager order."""
        sources = self.program.dropout_sources
        total = rows * sum(width for _, width in sources)
        if self._uniforms.size < total:
            self._uniforms = np.empty(total, self.program.dtype)
        start = 0
        for generator, width in sources:
            generator().random(out=self._uniforms[start:start + rows * width], dtype=self.program.dtype)
            start += rows * width
        return self._uniforms

    def _blas_threads(self, rows: int):
        """A context that keeps BLAS to one thread when a batch of ``rows`` rows is small (see the module)."""
        return one_blas_thread() if rows * self._flops_per_row < _THREADED_FLOPS else contextlib.nullcontext()

    # ------------------------------------------------------------ training and inference
    def learning_rates(self, steps: int) -> np.ndarray:
        """The next ``steps`` steps' rates, in the model's dtype.

        The learning rate at each step count (a schedule's value), as the optimizer's ``compiled_rate``
        gives it (Adam: its ``alpha``).

        Parameters
        ----------
        steps : int
            The number of steps, from the optimizer's ``iterations`` on.

        Returns
        -------
        np.ndarray
            One rate per step.
        """
        optimizer = self.optimizer
        first = optimizer.iterations
        rates = [optimizer.compiled_rate(optimizer.learning_rate_at(t), t + 1) for t in range(first, first + steps)]
        return np.array(rates).astype(self.program.dtype)

    def train(self, x: np.ndarray, y: np.ndarray, sample_weight, batch_size: int,
              predictions: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Train on the rows of ``x``, ``y`` in consecutive batches of ``batch_size``: one optimizer step a batch.

        Trains the parameters in the buffers (the caller runs ``load`` before and ``store`` after) and advances
        the optimizer's ``iterations``.

        Parameters
        ----------
        x : np.ndarray
            The inputs, (rows, features).
        y : np.ndarray
            The targets, one row per input row.
        sample_weight : np.ndarray or None
            A weight per row, or ``None``.
        batch_size : int
            The batch size.
        predictions : bool
            Also return the training-mode outputs of every row.

        Returns
        -------
        losses : np.ndarray
            Each batch's loss, penalties included.
        outputs : np.ndarray or None
            The outputs, (rows, output width), with ``predictions``; else ``None``.
        """
        dtype = self.program.dtype
        rows = len(x)
        steps = -(-rows // batch_size)
        x, y, weights = self._flat_inputs(x, y, sample_weight)
        rates = self.learning_rates(steps)
        z, a, dz, da, zoff, aoff = self.work_areas(min(batch_size, rows))
        uniforms = self._draw_uniforms(rows)
        losses = np.empty(steps)
        out = np.empty((rows if predictions else 0, self.program.output_width), dtype)
        setup = self.setup
        with self._blas_threads(min(batch_size, rows)):
            mlp.train(x, y, weights, uniforms, self.program.ops, self.program.fops, self.params, self.grads,
                      self.slots, self.state, z, a, dz, da, zoff, aoff, setup.loss, setup.fused,
                      self.program.penalties, setup.optimizer, setup.hp, rates, batch_size, losses, out)
        self.optimizer.iterations += steps
        return losses, (out if predictions else None)

    def infer(self, x: np.ndarray, y=None, sample_weight=None, batch_size: int = 8192,
              predictions: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Outputs (inference mode) of the rows of ``x`` and, given ``y``, each batch's loss.

        Without ``y`` (``predict``) each row's products are summed in a fixed order, so that a row's output
        does not depend on the rows predicted with it (scikit-learn's estimator checks ask this); with ``y``
        (``evaluate``) they go to BLAS.

        Parameters
        ----------
        x : np.ndarray
            The inputs, (rows, features).
        y : np.ndarray or None, default None
            The targets, for the losses.
        sample_weight : np.ndarray or None, default None
            A weight per row.
        batch_size : int, default 8192
            The batch size.
        predictions : bool, default True
            Return the outputs.

        Returns
        -------
        losses : np.ndarray
            Each batch's loss with penalties (meaningful only given ``y``).
        outputs : np.ndarray or None
            The outputs, (rows, output width), with ``predictions``; else ``None``.
        """
        rows, by_row = len(x), y is None
        x, y, weights = self._flat_inputs(x, y, sample_weight)
        work = self.work_areas(min(batch_size, rows))
        losses = np.empty(-(-rows // batch_size))
        out = np.empty((rows if predictions else 0, self.program.output_width), self.program.dtype)
        loss, fused = (self.setup.loss, self.setup.fused) if self.setup else (0, False)
        with contextlib.nullcontext() if by_row else self._blas_threads(min(batch_size, rows)):
            mlp.infer(x, y, weights, self.program.ops, self.program.fops, self.params, self.state, work[0],
                      work[1], work[4], work[5], loss, fused, self.program.penalties, batch_size, by_row, losses,
                      out)
        return losses, (out if predictions else None)

    def _flat_inputs(self, x, y, sample_weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dtype = self.program.dtype
        x = np.ascontiguousarray(x, dtype=dtype).reshape(-1)
        y = np.empty(0, dtype) if y is None else np.ascontiguousarray(y, dtype=dtype).reshape(-1)
        weights = np.empty(0, dtype) if sample_weight is None else \
            np.ascontiguousarray(sample_weight, dtype=dtype).reshape(-1)
        return x, y, weights
