"""``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods: one loop for all of them.

Each training step is: forward pass (the layers build the graph), loss (+ weight penalties),
``backward()``, and an in-place optimizer update. Evaluation and prediction run under
``no_grad`` and build no graph. Data are lists with one array per model input / output.
"""

from __future__ import annotations

import copy
import functools

import numpy as np

from deepfin import backend, kernels
from deepfin import losses as losses_module
from deepfin import metrics as metrics_module
from deepfin import optimizers as optimizers_module
from deepfin.callbacks.base import CallbackList, History
from deepfin.engine.tensor import Tensor, no_grad
from deepfin.models import batches, data
from deepfin.utils.progbar import Progbar, resolve_verbose


class Trainer:
    """The training API shared by every model (mixed into ``Model``).

    A model that ``fit`` can run on the compiled kernels (``deepfin.kernels``) trains there; any other on the
    eager engine, with the same results. ``training_path`` says which.

    Examples
    --------
    >>> import numpy as np
    >>> import deepfin
    >>> from deepfin.layers import Dense
    >>> model = deepfin.Sequential([Dense(1, input_dim=2, kernel_initializer="zeros")])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> x, y = np.ones((4, 2)), np.full(4, 2.0)
    >>> model.evaluate(x, y, verbose=0)  # predictions of 0: mse 4, mae 2
    [4.0, 2.0]
    >>> history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    >>> history.history["loss"][0] > history.history["loss"][-1]
    True
    >>> model.predict(x, verbose=0).shape
    (4, 1)
    """

    optimizer = None
    loss = None
    compiled = False
    stop_training = False
    _penalized: tuple | list = ()
    _loss_layers: tuple | list = ()
    _metrics = None
    _resume: dict | None = None
    _cursor: _Cursor | None = None
    _networks: dict | None = None

    # ------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, jit_compile=None, steps_per_execution=None,
                auto_scale_loss=None):
        """Configure training: optimizer, loss(es) and metrics, by name or object, as Keras.

        With several outputs, ``loss``, ``loss_weights`` and ``metrics`` may be lists (in output
        order) or dicts keyed by output name; a single loss or metric list applies to every
        output (each output gets its own copy). Compiling again resets the metrics.

        Parameters
        ----------
        optimizer : str or Optimizer, default "rmsprop"
            The optimizer, by name (``"sgd"``, ``"adam"``, ``"rmsprop"``, ...) with its default settings, or
            an object.
        loss : str or callable or Loss, or a list or dict of them, or None, default None
            The loss, by name (``"mse"``, ``"binary_crossentropy"``, ...), function or object; ``fit`` and
            ``evaluate`` need one.
        metrics : list or dict or None, default None
            Metrics by name, function or ``Metric``; with several outputs, a list of lists (one per output) or
            a dict by output name.
        loss_weights : list or dict or None, default None
            The weight of each output's loss in the total, 1.0 each by default.
        weighted_metrics, run_eagerly, jit_compile, steps_per_execution, auto_scale_loss : optional
            Accepted for compatibility; they change nothing.

        Raises
        ------
        ValueError
            If a name is unknown, or a list or dict does not match the outputs.
        TypeError
            If ``metrics`` is not a list, a dict, a name, a function or a ``Metric``.
        """
        names = self._output_names()
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss if loss is None or isinstance(loss, (list, tuple, dict)) else losses_module.get(loss)
        self._loss_fns = None if loss is None else \
            [losses_module.get(spec) for spec in _per_output(loss, names, "loss", copy_each=True)]
        weights = _per_output(1.0 if loss_weights is None else loss_weights, names, "loss_weights")
        self._loss_weights = [float(w) for w in weights]
        specs = [] if metrics is None else metrics
        if isinstance(specs, (str, metrics_module.Metric)) or callable(specs):
            specs = [specs]
        if isinstance(specs, (list, tuple)) and len(names) > 1 and all(isinstance(s, (list, tuple)) for s in specs):
            per_output = [list(s) for s in specs]
        elif isinstance(specs, dict):
            per_output = [list(s) if isinstance(s, (list, tuple)) else [s]
                          for s in _per_output(specs, names, "metrics", default=[])]
        elif isinstance(specs, (list, tuple)):
            per_output = [list(specs)] + [copy.deepcopy(list(specs)) for _ in names[1:]]
        else:
            raise TypeError(f"metrics must be a list of names, functions or Metrics. Received: {metrics!r}")
        for spec in (s for output in per_output for s in output):  # unknown names fail here
            metrics_module.get(spec, (None, 1), (None, 1))
        self._metric_specs = per_output
        self._metrics = None
        self._networks = None
        self.compiled = True

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_networks", None)  # the compiled twins: rebuilt when next needed
        return state

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call compile() before calling {what}().")
        if self._loss_fns is None:
            raise ValueError(f"{what}() needs a loss: call compile(loss=...) first.")

    @property
    def output_losses(self) -> list | None:
        """The loss object of each output, in output order; None before ``compile`` gave a loss."""
        losses = getattr(self, "_loss_fns", None)
        return None if losses is None else list(losses)

    @property
    def output_loss_weights(self) -> list[float]:
        """The weight of each output's loss in the total, in output order (1.0 each unless ``compile`` said)."""
        return list(getattr(self, "_loss_weights", []))

    @property
    def output_metric_specs(self) -> list[list]:
        """The metrics ``compile`` asked for, per output as given (names, functions or ``Metric`` objects)."""
        return [list(specs) for specs in getattr(self, "_metric_specs", [])]

    @property
    def metrics_names(self) -> list[str]:
        """The names of what ``evaluate`` and ``train_on_batch`` return, in order.

        ``loss``, then ``<output>_loss`` per output for several outputs, then the compiled metrics (known once
        ``fit`` or ``evaluate`` has seen data).
        """
        names = ["loss"]
        if len(self._output_names()) > 1:
            names += [f"{n}_loss" for n in self._output_names()]
        return names + [key for key, _ in (self._metrics or [])]

    @property
    def compiled_metrics(self) -> list[tuple[str, object]]:
        """The compiled metrics as ``(history key, Metric)`` pairs, in ``metrics_names``'s order (empty before
        ``fit`` or ``evaluate`` has seen data)."""
        return list(self._metrics or [])

    def reset_metrics(self) -> None:
        """Restart the metrics and the loss that ``train_on_batch(reset_metrics=False)`` accumulates."""
        for _, metric in self._metrics or []:
            metric.reset_state()
        self._batch_tally = None

    # ------------------------------------------------------------ data
    def _prepare_inputs(self, x, label: str = "x", what: str | None = None) -> list[np.ndarray]:
        """``x`` as one checked array per model input; with ``what`` (the method), 0 samples are refused."""
        names, expected = self._input_names(), self._expected_input_shapes()
        parts = data.split_structure(x, names, "inputs")
        labels = [label] if len(names) == 1 else [f"{label}[{n!r}]" for n in names]
        arrays = [data.check_input(p, e, self.dtype, lab, self.name, n)
                  for p, e, lab, n in zip(parts, expected, labels, names)]
        n = data.check_same_length(arrays, labels)
        if what is not None:
            data.check_not_empty(n, label, what)
        if not self.built:
            shapes = [(None,) + a.shape[1:] for a in arrays]
            self.build(shapes if len(shapes) > 1 else shapes[0])
        return arrays

    def _output_shapes(self, xs: list[np.ndarray]) -> list[tuple]:
        shapes = [(None,) + x.shape[1:] for x in xs]
        out = self.compute_output_shape(shapes if len(shapes) > 1 else shapes[0])
        return list(out) if isinstance(out, list) else [out]

    def _prepare_data(self, x, y, sample_weight=None, prefix: str = "", what: str = "fit"):
        """Inputs, targets and sample weights, checked against the model and its losses (for method ``what``)."""
        xs = self._prepare_inputs(x, prefix + "x", what)
        self._penalized = [w for w in self.weights if w.regularizer is not None]
        self._loss_layers = self._flatten_layers()  # their add_loss calls join the loss
        if y is None:
            raise ValueError(f"{prefix}y is required. Received: {prefix}y=None")
        names = self._output_names()
        parts = data.split_structure(y, names, "outputs")
        ys = [fn.validate_targets(np.asarray(p), shape)
              for fn, p, shape in zip(self._loss_fns, parts, self._output_shapes(xs))]
        labels = [prefix + "x"] + ([prefix + "y"] if len(ys) == 1 else [f"{prefix}y[{n!r}]" for n in names])
        n = data.check_same_length([xs[0], *ys], labels)
        return xs, ys, data.check_sample_weight(sample_weight, n, self.dtype, prefix + "sample_weight")

    def _ensure_metrics(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> None:
        """Create the compiled metrics once the data's shapes are known (once per compile)."""
        if self._metrics is not None:
            return
        output_shapes = self._output_shapes(xs)
        names = self._output_names()
        self._metrics, self._metric_outputs = [], []
        for i, specs in enumerate(self._metric_specs):
            for spec in specs:
                metric = metrics_module.get(spec, ys[i].shape, output_shapes[i], self._loss_fns[i])
                self._metrics.append((metric.name if len(names) == 1 else f"{names[i]}_{metric.name}", metric))
                self._metric_outputs.append(i)

    def _with_class_weight(self, class_weight, ys, sample_weight):
        """``sample_weight`` times each sample's class weight (single-output models)."""
        if class_weight is None:
            return sample_weight
        if len(ys) > 1:
            raise ValueError("class_weight works for single-output models only; pass sample_weight instead.")
        weights = data.class_weight_to_sample_weight(class_weight, ys[0], self.dtype)
        return weights if sample_weight is None else sample_weight * weights

    # ------------------------------------------------------------ steps
    def _compute_loss(self, ys, y_preds, sample_weight=None) -> tuple[Tensor, list]:
        fns = self._loss_fns
        if len(fns) == 1:
            parts = []
            total = fns[0](ys[0], y_preds[0], sample_weight)
        else:
            parts = [fn(y, p, sample_weight) for fn, y, p in zip(fns, ys, y_preds)]
            total = sum((part * w for part, w in zip(parts[1:], self._loss_weights[1:])),
                        parts[0] * self._loss_weights[0])
        for w in self._penalized:
            total = total + w.regularizer(w)
        for layer in self._loss_layers:
            for added in layer.added_losses:
                total = total + added
        return total, parts

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """Return the loss of one batch, Keras 3's hook.

        The compiled losses (weighted across outputs), the weights' penalties and what layers added with
        ``add_loss``, as a scalar Tensor. A subclass may override it (e.g. to add a penalty on ``y_pred``);
        ``fit`` then trains on the eager engine.

        Parameters
        ----------
        x : np.ndarray or list of np.ndarray or None, default None
            The batch's inputs (unused by the base; there for an override).
        y : np.ndarray or list of np.ndarray
            The targets: one array for a single-output model, a list otherwise.
        y_pred : Tensor or list of Tensor
            The model's outputs, as ``y``.
        sample_weight : np.ndarray or None, default None
            One weight per sample.
        training : bool, default True
            Whether the batch is a training batch (unused by the base).

        Returns
        -------
        Tensor
            The scalar loss, part of the graph that ``backward()`` runs through.
        """
        ys = list(y) if isinstance(y, (list, tuple)) and len(self._loss_fns) > 1 else [y]
        preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
        return self._compute_loss(ys, preds, sample_weight)[0]

    @property
    def computes_own_loss(self) -> bool:
        """Whether this model's class overrides ``compute_loss`` (the compiled kernels then do not train it)."""
        return type(self).compute_loss is not Trainer.compute_loss

    def _batch_loss(self, xs, ys, y_preds, sample_weight, training: bool) -> tuple[Tensor, list]:
        """The loss and per-output losses of one batch: ``compute_loss`` where a subclass overrides it."""
        if not self.computes_own_loss:
            return self._compute_loss(ys, y_preds, sample_weight)
        single = len(y_preds) == 1
        loss = self.compute_loss(x=xs[0] if len(xs) == 1 else xs, y=ys[0] if single else ys,
                                 y_pred=y_preds[0] if single else y_preds, sample_weight=sample_weight,
                                 training=training)
        if not isinstance(loss, Tensor) or loss.size != 1:
            raise ValueError(f"{type(self).__name__}.compute_loss must return a scalar Tensor. Received: {loss!r:.80}")
        return loss.reshape(()), []

    def _train_step(self, xs, ys, sample_weight=None) -> tuple[float, list, list]:
        variables = self._train_variables
        for v in variables:
            v.grad = None
        y_preds = self._call_arrays(xs, training=True)
        loss, parts = self._batch_loss(xs, ys, y_preds, sample_weight, training=True)
        loss.backward()
        grads = [v.grad for v in variables]
        if any(g is None for g in grads):  # weights the loss does not reach are left alone
            variables = [v for v in variables if v.grad is not None]
            grads = [v.grad for v in variables]
        if variables:
            self.optimizer.apply(grads, variables)
        return float(loss.data), [float(p.data) for p in parts], [p.data for p in y_preds]

    def _update_metrics(self, ys, preds, sample_weight) -> None:
        for (_, metric), i in zip(self._metrics, self._metric_outputs):
            metric.update_state(ys[i], preds[i], sample_weight)

    def _logs(self, tally: _LossTally, count: int | None = None) -> dict:
        """The tally's mean losses, then the compiled metrics' current results."""
        logs = tally.result(self._output_names(), count)
        logs.update((key, float(metric.result())) for key, metric in self._metrics)
        return logs

    def _start_training(self) -> None:
        self._train_variables = self.trainable_weights

    # ------------------------------------------------------------ the compiled kernels
    def _network(self, training: bool) -> kernels.CompiledNetwork | None:
        """Return the model's compiled twin for training or inference (``deepfin.kernels``), or None.

        None where the model runs on the eager engine; the twin is kept while the layers, optimizer, loss and
        ``backend.compiled()`` stay.
        """
        layers = self.layers
        key = (backend.compiled(), self.built, self.trainable, id(self.optimizer), id(self.loss),
               tuple(map(id, layers)), tuple(layer.trainable for layer in layers))
        if self._networks is None:
            self._networks = {}
        cached = self._networks.get(training)
        if cached is None or cached[0] != key:
            cached = (key, kernels.network_for(self, training))
            self._networks[training] = cached
        network = cached[1]
        return network if isinstance(network, kernels.CompiledNetwork) else None

    def _fit_batch(self, network, xs, ys, sample_weight, tally: _LossTally) -> list:
        """Take one training step on one batch; return the training-mode outputs.

        It runs on the engine (``network`` None) or on the compiled network, whose weights go back to the
        model after it; its loss goes into ``tally``.
        """
        if network is None:
            loss_value, parts, preds = self._train_step(xs, ys, sample_weight)
            tally.add(loss_value, parts, len(xs[0]))
            return preds
        network.load()
        preds = self._train_chunk(network, xs, ys, sample_weight, len(xs[0]), tally)
        network.store()
        return preds

    def _test_batch(self, xs, ys, sample_weight, tally: _LossTally) -> None:
        """Loss and metrics of one batch on the engine, in inference mode (inside ``no_grad``)."""
        preds = self._call_arrays(xs, training=False)
        loss, parts = self._batch_loss(xs, ys, preds, sample_weight, training=False)
        tally.add(float(loss.data), [float(p.data) for p in parts], len(xs[0]))
        self._update_metrics(ys, [p.data for p in preds], sample_weight)

    def _train_chunk(self, network, xs, ys, sample_weight, batch_size: int, tally: _LossTally) -> list:
        """Take compiled training steps on the rows given (consecutive batches of ``batch_size``).

        Their losses go into ``tally``; the training-mode outputs are returned when metrics need them.
        """
        losses, predictions = network.train(xs[0], ys[0], sample_weight, batch_size, predictions=bool(self._metrics))
        for value, size in zip(losses.tolist(), kernels.batch_sizes(len(xs[0]), batch_size).tolist()):
            tally.add(value, [], size)
        return [predictions]

    # ------------------------------------------------------------ resuming (BackupAndRestore)
    def fit_state(self) -> dict:
        """Return where the running ``fit`` stands, for a callback that backs it up.

        ``resume_fit(**state)`` in a later fit's ``on_train_begin`` continues from there.

        Returns
        -------
        dict
            ``epoch`` (0-based), ``step`` (batches done in it), ``order`` (the epoch's sample order, None
            without shuffling) and ``losses`` (the epoch's loss sums so far).

        Raises
        ------
        RuntimeError
            If no ``fit`` is running.
        """
        cursor = self._cursor
        if cursor is None:
            raise RuntimeError("fit_state() is available while fit() runs: call it from a callback.")
        return {"epoch": cursor.epoch, "step": cursor.step, "order": cursor.order,
                "losses": cursor.tally.state()}

    def resume_fit(self, epoch: int, step: int = 0, order=None, losses: dict | None = None) -> None:
        """Make the fit that is starting begin at ``epoch`` (in place of ``initial_epoch``).

        Call it from a callback's ``on_train_begin``, with a state from ``fit_state()``. With
        ``step > 0`` the fit goes on inside that epoch: it skips the ``step`` batches done, takes
        the epoch's sample ``order`` instead of drawing one, and adds to the loss sums ``losses``.

        Parameters
        ----------
        epoch : int
            The epoch to start at, from 0.
        step : int, default 0
            The batches of that epoch already done.
        order : array_like or None, default None
            The epoch's sample order (None without shuffling).
        losses : dict or None, default None
            The epoch's loss sums so far; needed with ``step > 0``.

        Raises
        ------
        ValueError
            If ``epoch`` or ``step`` is not a non-negative integer, or ``step > 0`` comes without ``losses``;
            when the fit starts, if ``step`` or ``order`` does not fit its data.
        """
        data.check_int("epoch", epoch, minimum=0)
        data.check_int("step", step, minimum=0)
        if step and losses is None:
            raise ValueError(f"resume_fit(step={step}) needs the epoch's loss sums: pass losses=.")
        self._resume = {"epoch": epoch, "step": step, "order": None if order is None else np.asarray(order),
                        "losses": losses}

    # ------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs of mini-batches; return the ``History``.

        ``x`` may also give batches: a ``PyDataset`` or a Python iterator of ``(x, y)`` or ``(x, y,
        sample_weight)`` batches; ``steps_per_epoch`` then says how many batches make an epoch (by default a
        PyDataset's ``len``, or all an iterator has left), and ``validation_data`` may give batches too
        (``validation_steps`` of them). With in-memory arrays an epoch is always one pass over the data.
        A callback may end the training early by setting ``model.stop_training``.

        Parameters
        ----------
        x : array_like or list or dict of array_like, or PyDataset or iterator
            The inputs: one array per model input (a list in input order, or a dict by input name), or a
            source of batches.
        y : array_like or list or dict of array_like or None, default None
            The targets, one array per output; None when ``x`` gives batches.
        batch_size : int or None, default None
            The samples per gradient step; 32 by default.
        epochs : int, default 1
            The index the training stops at: epochs ``initial_epoch`` to ``epochs - 1`` are run.
        verbose : {"auto", 0, 1, 2}, default "auto"
            0 is silent, 1 draws a live progress bar, 2 prints a line per epoch; "auto" is 1 where the output
            is interactive, else 2.
        callbacks : list of Callback or None, default None
            Called at the start and end of the training, of each epoch and of each batch.
        validation_split : float, default 0.0
            The fraction of the samples (the last ones, taken before shuffling) held out for validation.
        validation_data : tuple or PyDataset or iterator or None, default None
            ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``, or a source of batches, evaluated at
            the end of each epoch; not with ``validation_split``.
        shuffle : bool, default True
            Whether to draw a new sample order each epoch (arrays only).
        class_weight : dict or None, default None
            Weights by class index, multiplied into the sample weights (single-output models).
        sample_weight : array_like or None, default None
            One weight per sample.
        initial_epoch : int, default 0
            The epoch to start at (to resume a training).
        steps_per_epoch : int or None, default None
            The batches in an epoch when ``x`` gives batches.
        validation_steps : int or None, default None
            The batches of ``validation_data`` evaluated when it gives batches.
        validation_batch_size : int or None, default None
            The batch size of the validation; ``batch_size`` by default.
        validation_freq : int, default 1
            Validate every ``validation_freq`` epochs.

        Returns
        -------
        History
            Its ``history`` maps ``loss``, the metrics and their ``val_`` twins to one value per epoch.

        Raises
        ------
        RuntimeError
            If the model is not compiled.
        ValueError
            If the model was compiled without a loss, or an argument or the data are invalid (each message
            says what was expected).

        Examples
        --------
        >>> import numpy as np
        >>> import deepfin
        >>> from deepfin.layers import Dense
        >>> model = deepfin.Sequential([Dense(1, input_dim=2)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> history = model.fit(np.ones((8, 2)), np.ones(8), epochs=2, validation_split=0.25, verbose=0)
        >>> sorted(history.history), len(history.history["loss"])
        (['loss', 'val_loss'], 2)
        """
        self._require_compiled("fit")
        batch_size = data.check_batch_size(batch_size)
        val_batch_size = data.check_batch_size(validation_batch_size or batch_size)
        data.check_int("epochs", epochs, minimum=0)
        data.check_int("initial_epoch", initial_epoch, minimum=0)
        data.check_int("validation_freq", validation_freq, minimum=1)
        verbose = resolve_verbose(verbose)
        if batches.is_batch_source(x):
            if y is not None or sample_weight is not None or validation_split:
                raise ValueError("When x gives batches (a PyDataset or an iterator), its batches hold the targets "
                                 "and sample weights: pass no y, sample_weight or validation_split.")
            return self._fit_batches(batches.BatchSource(x, steps_per_epoch), epochs, verbose, callbacks,
                                     validation_data, validation_steps, val_batch_size, class_weight, initial_epoch,
                                     validation_freq)
        xs, ys, sample_weight = self._prepare_data(x, y, sample_weight)
        sample_weight = self._with_class_weight(class_weight, ys, sample_weight)
        if validation_data is not None and validation_split:
            raise ValueError("Pass validation_data or validation_split, not both.")
        if validation_split:
            (xs, ys, sample_weight), validation = data.split_validation(xs, ys, sample_weight, validation_split)
        elif validation_data is not None:
            validation = self._prepare_data(*data.unpack_validation(validation_data), prefix="validation_")
        else:
            validation = None
        n = len(xs[0])
        steps = -(-n // batch_size)
        self._ensure_metrics(xs, ys)
        history = History()
        callback_list = CallbackList([*(callbacks or []), history], self,
                                     {"epochs": epochs, "steps": steps, "verbose": verbose})
        self._start_training()
        self.history = history
        self.stop_training = False
        batch_hooks = callback_list.has("on_train_batch_end") or callback_list.has("on_train_batch_begin")
        batch_logs = callback_list.reads_batch_logs()
        eager_only = callback_list.needs_gradients()
        tally = _LossTally(len(ys))
        progress_logs = functools.partial(self._logs, tally)  # called only when the bar is drawn
        self._resume, self._cursor = None, _Cursor(tally)
        callback_list.call("on_train_begin", {})
        resume, self._resume = self._resume, None  # set by a callback's resume_fit()
        if resume is not None:
            initial_epoch = resume["epoch"]
            _check_resume(resume, n, steps)
        for epoch in range(initial_epoch, epochs):
            callback_list.call("on_epoch_begin", epoch, {})
            self.reset_metrics()
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            progbar = Progbar(steps, verbose)
            first = 0
            if resume is not None and resume["step"]:  # inside an epoch: its order, its losses so far
                order, first = resume["order"], resume["step"]
                tally.restore(resume["losses"])
            else:
                order = backend.rng().permutation(n) if shuffle else None
                tally.reset()
            resume = None
            cursor = self._cursor
            cursor.epoch, cursor.step, cursor.order = epoch, first, order
            network = None if eager_only else self._network(training=True)
            per_call = 1 if network is None or batch_hooks else _steps_per_chunk(xs[0], batch_size)
            if network is not None and not batch_hooks:
                network.load()
            for step in range(first, steps, per_call):
                start, stop = step * batch_size, min((step + per_call) * batch_size, n)
                index = slice(start, stop) if order is None else order[start:stop]
                xb, yb = [a[index] for a in xs], [a[index] for a in ys]
                wb = None if sample_weight is None else sample_weight[index]
                if batch_hooks:
                    callback_list.call("on_train_batch_begin", step, {})
                if network is None or batch_hooks:  # the weights go back to the model after every batch
                    preds = self._fit_batch(network, xb, yb, wb, tally)
                else:
                    preds = self._train_chunk(network, xb, yb, wb, batch_size, tally)
                cursor.step = step = min(step + per_call, steps)
                if self._metrics:
                    self._update_metrics(yb, preds, wb)
                if batch_hooks:
                    callback_list.call("on_train_batch_end", step - 1, self._logs(tally) if batch_logs else {})
                progbar.update(step, progress_logs)
                if self.stop_training:
                    break
            if network is not None and not batch_hooks:
                network.store()
            logs = self._logs(tally, max(tally.seen, 1))  # an empty epoch reports zeros
            if validation is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*validation, batch_size=val_batch_size, callback_list=callback_list)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, logs)
            progbar.finish(logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", {})
        self._cursor = None
        return history

    def _fit_batches(self, source, epochs, verbose, callbacks, validation_data, validation_steps, val_batch_size,
                     class_weight, initial_epoch, validation_freq) -> History:
        """Run ``fit`` on batches that arrive one by one (``deepfin.models.batches``).

        Each batch is checked as arrays are, then trained on (on the compiled kernels where the model fits
        them); validation on arrays or on another batch source (``validation_steps`` batches of it).
        """
        history = History()
        callback_list = CallbackList([*(callbacks or []), history], self,
                                     {"epochs": epochs, "steps": source.steps, "verbose": verbose})
        self._start_training()
        self.history, self.stop_training = history, False
        tally = None
        callback_list.call("on_train_begin", {})
        for epoch in range(initial_epoch, epochs):
            callback_list.call("on_epoch_begin", epoch, {})
            self.reset_metrics()
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            progbar = Progbar(source.steps, verbose)
            step = 0
            for x, y, sample_weight in source.epoch():
                xs, ys, weights = self._prepare_data(x, y, sample_weight)
                weights = self._with_class_weight(class_weight, ys, weights)
                self._ensure_metrics(xs, ys)
                tally = tally or _LossTally(len(ys))
                if step == 0:
                    tally.reset()
                callback_list.call("on_train_batch_begin", step, {})
                network = None if callback_list.needs_gradients() else self._network(training=True)
                preds = self._fit_batch(network, xs, ys, weights, tally)
                if self._metrics:
                    self._update_metrics(ys, preds, weights)
                step += 1
                callback_list.call("on_train_batch_end", step - 1, self._logs(tally))
                progbar.update(step, functools.partial(self._logs, tally))
                if self.stop_training:
                    break
            source.end_epoch()
            if step == 0:
                print(f"Your input ran out of data at epoch {epoch + 1}: give steps_per_epoch for an iterator that "
                      "does not end, or a PyDataset, which starts again each epoch.", flush=True)
                break
            logs = self._logs(tally)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_any(validation_data, validation_steps, val_batch_size, callback_list)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.call("on_epoch_end", epoch, logs)
            progbar.finish(logs)
            if self.stop_training:
                break
        callback_list.call("on_train_end", {})
        return history

    def _evaluate_any(self, validation_data, steps, batch_size, callback_list) -> dict:
        if batches.is_batch_source(validation_data):
            return self._evaluate_batches(batches.BatchSource(validation_data, steps, "validation_data"),
                                          callback_list)
        return self._evaluate_arrays(*self._prepare_data(*data.unpack_validation(validation_data),
                                                         prefix="validation_"),
                                     batch_size=batch_size, callback_list=callback_list)

    def _evaluate_batches(self, source, callback_list=None) -> dict:
        """Loss and metrics over the batches of ``source``, on the engine, one batch at a time."""
        callback_list = callback_list or _NO_CALLBACKS
        self.reset_metrics()
        tally = None
        callback_list.call("on_test_begin", {})
        with no_grad():
            for step, (x, y, sample_weight) in enumerate(source.epoch()):
                xs, ys, weights = self._prepare_data(x, y, sample_weight, what="evaluate")
                self._ensure_metrics(xs, ys)
                tally = tally or _LossTally(len(ys))
                callback_list.call("on_test_batch_begin", step, {})
                self._test_batch(xs, ys, weights, tally)
                callback_list.call("on_test_batch_end", step, {})
        source.end_epoch()
        if tally is None:
            raise ValueError(f"{source.label} gave no batches to evaluate.")
        logs = self._logs(tally)
        callback_list.call("on_test_end", logs)
        return logs

    # ------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Return the loss (and metrics) on ``x, y``, computed in inference mode.

        Parameters
        ----------
        x : array_like or list or dict of array_like, or PyDataset or iterator
            The inputs, one array per model input, or a source of ``(x, y)`` or ``(x, y, sample_weight)``
            batches.
        y : array_like or list or dict of array_like or None, default None
            The targets; None when ``x`` gives batches.
        batch_size : int or None, default None
            The samples per batch; 32 by default.
        verbose : {"auto", 0, 1, 2}, default "auto"
            0 is silent; otherwise, for arrays, a line with the results is printed at the end.
        sample_weight : array_like or None, default None
            One weight per sample.
        steps : int or None, default None
            The batches taken when ``x`` gives batches; by default a PyDataset's ``len``, or all an iterator
            has left.
        callbacks : list of Callback or None, default None
            Called at the start and end of the evaluation and of each batch.
        return_dict : bool, default False
            Whether to return a dict by name.

        Returns
        -------
        float or list of float or dict
            The loss alone when there is nothing else, else a list in the order of ``metrics_names``; a dict
            by name with ``return_dict``.

        Raises
        ------
        RuntimeError
            If the model is not compiled.
        ValueError
            If the model was compiled without a loss, or the data are invalid or empty.
        """
        self._require_compiled("evaluate")
        batch_size = data.check_batch_size(batch_size)
        verbose = resolve_verbose(verbose)
        if batches.is_batch_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("When x gives batches (a PyDataset or an iterator), its batches hold the targets "
                                 "and sample weights: pass no y or sample_weight.")
            logs = self._evaluate_batches(batches.BatchSource(x, steps),
                                          CallbackList(callbacks or [], self, {"verbose": verbose}))
            return logs if return_dict else _flatten(logs)
        xs, ys, sample_weight = self._prepare_data(x, y, sample_weight, what="evaluate")
        callback_list = CallbackList(callbacks or [], self, {"verbose": verbose})
        progbar = Progbar(-(-len(xs[0]) // batch_size), verbose)
        logs = self._evaluate_arrays(xs, ys, sample_weight, batch_size=batch_size, callback_list=callback_list)
        progbar.finish(logs)
        return logs if return_dict else _flatten(logs)

    def _evaluate_arrays(self, xs, ys, sample_weight=None, batch_size=32, callback_list=None) -> dict:
        callback_list = callback_list or _NO_CALLBACKS
        self._ensure_metrics(xs, ys)
        self.reset_metrics()
        tally = _LossTally(len(ys))
        callback_list.call("on_test_begin", {})
        network = self._network(training=True)  # its loss; the optimizer's state is not loaded
        if network is not None and not callback_list.has("on_test_batch_begin") \
                and not callback_list.has("on_test_batch_end"):
            self._evaluate_compiled(network, xs, ys, sample_weight, batch_size, tally)
            logs = self._logs(tally)
            callback_list.call("on_test_end", logs)
            return logs
        with no_grad():
            for step, start in enumerate(range(0, len(xs[0]), batch_size)):
                index = slice(start, start + batch_size)
                xb, yb = [a[index] for a in xs], [a[index] for a in ys]
                wb = None if sample_weight is None else sample_weight[index]
                callback_list.call("on_test_batch_begin", step, {})
                self._test_batch(xb, yb, wb, tally)
                callback_list.call("on_test_batch_end", step, {})
        logs = self._logs(tally)
        callback_list.call("on_test_end", logs)
        return logs

    def _evaluate_compiled(self, network, xs, ys, sample_weight, batch_size: int, tally: _LossTally) -> None:
        """Losses and metrics on the compiled kernels, a chunk of batches at a time."""
        network.load(training=False)
        per_call = _steps_per_chunk(xs[0], batch_size) * batch_size
        for start in range(0, len(xs[0]), per_call):
            index = slice(start, start + per_call)
            xb, yb = [a[index] for a in xs], [a[index] for a in ys]
            wb = None if sample_weight is None else sample_weight[index]
            losses, predictions = network.infer(xb[0], yb[0], wb, batch_size, predictions=bool(self._metrics))
            for value, size in zip(losses.tolist(), kernels.batch_sizes(len(xb[0]), batch_size).tolist()):
                tally.add(value, [], size)
            if self._metrics:
                self._update_metrics(yb, [predictions], wb)

    def _predict_compiled(self, network, xs, batch_size: int) -> list[np.ndarray]:
        """The outputs of ``xs`` on the compiled kernels, a chunk of rows at a time."""
        network.load(training=False)
        per_call = _steps_per_chunk(xs[0], batch_size) * batch_size
        parts = [network.infer(xs[0][start:start + per_call], batch_size=batch_size)[1]
                 for start in range(0, len(xs[0]), per_call)]
        return [parts[0] if len(parts) == 1 else np.concatenate(parts)]

    @property
    def training_path(self) -> str:
        """Where ``fit`` trains this model: 'compiled' (the kernels of ``deepfin.kernels``) or 'eager: <why>'."""
        return "compiled" if self._network(training=True) is not None else \
            f"eager: {self._networks[True][1]}"

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Return the model's outputs for ``x``, computed in inference mode, batch by batch.

        Parameters
        ----------
        x : array_like or list or dict of array_like, or PyDataset or iterator
            The inputs, one array per model input, or a source of batches (of which only ``x`` is read).
        batch_size : int or None, default None
            The samples per batch; 32 by default.
        verbose : {"auto", 0, 1, 2}, default "auto"
            Accepted for Keras's signature; ``predict`` prints nothing.
        steps : int or None, default None
            The batches taken when ``x`` gives batches.
        callbacks : list of Callback or None, default None
            Called at the start and end of the prediction and of each batch.

        Returns
        -------
        np.ndarray or list of np.ndarray or dict
            One array for one output, a list for several, a dict when the outputs were given as a dict.

        Raises
        ------
        ValueError
            If the data are invalid or empty, or a batch source gives no batches.
        """
        batch_size = data.check_batch_size(batch_size)
        if batches.is_batch_source(x):
            source = batches.BatchSource(x, steps)
            parts = [self.predict(xb, batch_size=batch_size, verbose=0) for xb, _, _ in source.epoch()]
            source.end_epoch()
            if not parts:
                raise ValueError("x gave no batches to predict.")
            if isinstance(parts[0], dict):
                return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
            if isinstance(parts[0], list):
                return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
            return np.concatenate(parts)
        xs = self._prepare_inputs(x, what="predict")
        callback_list = CallbackList(callbacks, self, {}) if callbacks else _NO_CALLBACKS
        network = self._network(training=False)
        if network is not None and not callback_list.has("on_predict_batch_begin") \
                and not callback_list.has("on_predict_batch_end"):
            callback_list.call("on_predict_begin", {})
            outputs = self._predict_compiled(network, xs, batch_size)
            callback_list.call("on_predict_end", {})
            return self._pack_outputs(outputs)
        callback_list.call("on_predict_begin", {})
        outputs = []
        with no_grad():
            for step, start in enumerate(range(0, len(xs[0]), batch_size)):
                callback_list.call("on_predict_batch_begin", step, {})
                batch = [a[start:start + batch_size] for a in xs] if len(xs[0]) > batch_size else xs
                outputs.append([p.data for p in self._call_arrays(batch, training=False)])
                callback_list.call("on_predict_batch_end", step, {"outputs": outputs[-1]})
        callback_list.call("on_predict_end", {})
        if len(outputs) == 1:
            merged = outputs[0]
        else:
            merged = [np.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0]))]
        return self._pack_outputs(merged)

    # ------------------------------------------------------------ single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """Take one gradient step on one batch; return its loss (and metrics), as Keras 2 returned them.

        With ``reset_metrics=False`` metrics (and the loss) accumulate over calls until
        ``reset_metrics()``, as Keras 3 does.

        Parameters
        ----------
        x : array_like or list or dict of array_like
            The batch's inputs.
        y : array_like or list or dict of array_like
            The batch's targets.
        sample_weight : array_like or None, default None
            One weight per sample.
        class_weight : dict or None, default None
            Weights by class index (single-output models).
        reset_metrics : bool, default True
            Whether to restart the metrics and the loss before this batch.
        return_dict : bool, default False
            Whether to return a dict by name.

        Returns
        -------
        float or list of float or dict
            As ``evaluate`` returns them; the loss is the training-mode loss of the batch.

        Raises
        ------
        RuntimeError
            If the model is not compiled.
        ValueError
            If the model was compiled without a loss, or the data are invalid or empty.
        """
        self._require_compiled("train_on_batch")
        xs, ys, sample_weight = self._prepare_data(x, y, sample_weight, what="train_on_batch")
        sample_weight = self._with_class_weight(class_weight, ys, sample_weight)
        self._ensure_metrics(xs, ys)
        if reset_metrics or getattr(self, "_batch_tally", None) is None:
            self.reset_metrics()
            self._batch_tally = _LossTally(len(ys))
        self._start_training()
        network = self._network(training=True)
        preds = self._fit_batch(network, xs, ys, sample_weight, self._batch_tally)
        if self._metrics:
            self._update_metrics(ys, preds, sample_weight)
        logs = self._logs(self._batch_tally)
        return logs if return_dict else _flatten(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Return the loss (and metrics) on one batch, without updating the weights.

        Parameters
        ----------
        x : array_like or list or dict of array_like
            The batch's inputs.
        y : array_like or list or dict of array_like
            The batch's targets.
        sample_weight : array_like or None, default None
            One weight per sample.
        return_dict : bool, default False
            Whether to return a dict by name.

        Returns
        -------
        float or list of float or dict
            As ``evaluate`` returns them.

        Raises
        ------
        RuntimeError
            If the model is not compiled.
        ValueError
            If the model was compiled without a loss, or the data are invalid or empty.
        """
        self._require_compiled("test_on_batch")
        xs, ys, sample_weight = self._prepare_data(x, y, sample_weight, what="test_on_batch")
        logs = self._evaluate_arrays(xs, ys, sample_weight, batch_size=len(xs[0]))
        return logs if return_dict else _flatten(logs)

    def predict_on_batch(self, x):
        """Return the outputs for one batch, computed at once in inference mode.

        Parameters
        ----------
        x : array_like or list or dict of array_like
            The batch's inputs.

        Returns
        -------
        np.ndarray or list of np.ndarray or dict
            As ``predict`` returns them.
        """
        xs = self._prepare_inputs(x)
        network = self._network(training=False)
        if network is not None:
            return self._pack_outputs(self._predict_compiled(network, xs, len(xs[0])))
        with no_grad():
            preds = [p.data for p in self._call_arrays(xs, training=False)]
        return self._pack_outputs(preds)


# ------------------------------------------------------------ helpers
_NO_CALLBACKS = CallbackList([], None, {})  # holds nothing, so one instance serves every call


class _LossTally:
    """Running sums of the loss, and of each output's loss, weighted by batch size.

    A single-output model reports no per-output losses (its loss is that output's), so its
    ``part_sums`` stay empty. ``seen`` counts the samples added since the last ``reset()``.
    """

    __slots__ = ("loss_sum", "part_sums", "seen", "_n_parts")

    def __init__(self, n_outputs: int):
        self._n_parts = n_outputs if n_outputs > 1 else 0
        self.reset()

    def reset(self) -> None:
        """Forget every batch added so far."""
        self.loss_sum, self.part_sums, self.seen = 0.0, [0.0] * self._n_parts, 0

    def add(self, loss: float, parts: list[float], size: int) -> None:
        """Count a batch of ``size`` samples with mean loss ``loss`` and per-output mean losses ``parts``."""
        self.loss_sum += loss * size
        for j, part in enumerate(parts):
            self.part_sums[j] += part * size
        self.seen += size

    def state(self) -> dict:
        """The sums as a JSON-able dict (``restore`` takes it back)."""
        return {"loss_sum": self.loss_sum, "part_sums": list(self.part_sums), "seen": self.seen}

    def restore(self, state: dict) -> None:
        """Go on from sums that ``state()`` returned."""
        self.loss_sum, self.seen = float(state["loss_sum"]), int(state["seen"])
        self.part_sums = [float(p) for p in state["part_sums"]]
        if len(self.part_sums) != self._n_parts:
            raise ValueError(f"The saved loss sums are for {len(self.part_sums)} outputs; this model has "
                             f"{self._n_parts}.")

    def result(self, names: list[str], count: int | None = None) -> dict:
        """Mean losses per sample: ``loss``, then ``<name>_loss`` per output; over ``seen`` unless ``count``."""
        count = self.seen if count is None else count
        logs = {"loss": self.loss_sum / count}
        for name, part in zip(names, self.part_sums):
            logs[f"{name}_loss"] = part / count
        return logs


class _Cursor:
    """Where a fit stands: the epoch, the batches done in it, its sample order and its loss tally."""

    __slots__ = ("epoch", "step", "order", "tally")

    def __init__(self, tally: _LossTally):
        self.epoch, self.step, self.order, self.tally = 0, 0, None, tally


def _check_resume(resume: dict, n: int, steps: int) -> None:
    """Refuse a resume point (from ``resume_fit``) that does not fit this fit's data."""
    order = resume["order"]
    if resume["step"] > steps:
        raise ValueError(f"Cannot resume after batch {resume['step']} of an epoch of {steps} batches: "
                         "the data are not those of the interrupted fit.")
    if order is not None and (order.shape != (n,) or order.dtype.kind not in "iu"):
        raise ValueError(f"Cannot resume with a sample order of shape {order.shape} for {n} samples: "
                         "the data are not those of the interrupted fit.")


_CHUNK_BYTES = 1 << 20  # input rows handed to the compiled kernels per call (and dropout draws held at once)


def _steps_per_chunk(x: np.ndarray, batch_size: int) -> int:
    """How many batches the compiled kernels take per call: about ``_CHUNK_BYTES`` of input rows."""
    row_bytes = max(x[:1].nbytes, 1)
    return max(1, _CHUNK_BYTES // (row_bytes * batch_size))


def _flatten(logs: dict):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _per_output(spec, names: list[str], what: str, default=None, copy_each: bool = False) -> list:
    """One entry per output from a single value, a list in output order or a dict by output name."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"{what} has keys {unknown} that are not output names. Output names: {names}.")
        if default is None and any(n not in spec for n in names):
            raise ValueError(f"{what} given as a dict needs an entry for every output: {names}.")
        return [spec.get(n, default) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"{what} has {len(spec)} entries for {len(names)} outputs ({names}).")
        return list(spec)
    return [spec] + [copy.deepcopy(spec) if copy_each else spec for _ in names[1:]]
