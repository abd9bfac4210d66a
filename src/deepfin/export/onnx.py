"""ONNX export of a Sequential or functional model: its inference graph, one ONNX node or a few per layer.

``to_onnx(model)`` walks the model's symbolic graph, from ``model.inputs`` to ``model.outputs`` through each
tensor's ``layer`` and ``parents``, and returns an ``onnx.ModelProto``: one graph input per model input (named
as the model's inputs, the batch axis free), one graph output per model output (named as ``predict`` names
them), the weights as initializers in the model's float type (float32, or float64 for a float64 model).
Dropout is the identity and BatchNormalization uses its moving statistics, as ``predict`` does; a nested model
is spliced in. A layer or activation that is not deepfin's own is refused by name: Python code has no ONNX
form. ``export_model`` is ``model.export``: it checks the graph with ``onnx.checker`` and writes it atomically.
``emit`` adds a model's nodes to a ``GraphBuilder``, for graphs with more in them (``pipeline.py``).
"""

from __future__ import annotations

import inspect
import math
import os
from pathlib import Path

import numpy as np

from deepfin import __version__, activations
from deepfin._files import atomic_write
from deepfin._text import unique_name
from deepfin.engine.graph import topological_order
from deepfin.layers import (
    ELU,
    GRU,
    LSTM,
    Activation,
    Add,
    AlphaDropout,
    Average,
    AveragePooling1D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    GaussianDropout,
    GaussianNoise,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    IntegerLookup,
    LayerNormalization,
    LeakyReLU,
    Masking,
    Maximum,
    Maxout,
    MaxPooling1D,
    Minimum,
    MultiHeadAttention,
    Multiply,
    Permute,
    ReLU,
    Rescaling,
    Reshape,
    SimpleRNN,
    Softmax,
    Subtract,
    TimeDistributed,
)
from deepfin.models import Functional, Sequential

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax and LogSoftmax over one axis, as deepfin's
BATCH = "batch"  # the name of the free batch axis
ML_DOMAIN = "ai.onnx.ml"


def require_onnx():
    """The ``onnx`` module, or an ImportError that says how to install it.

    Returns
    -------
    module
        ``onnx``.

    Raises
    ------
    ImportError
        If onnx is not installed (``pip install deepfin[onnx]``).
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install deepfin[onnx]") from None
    return onnx


def export_model(model, filepath: str | os.PathLike, format: str = "tf_saved_model", verbose=None,
                 input_signature=None, **kwargs) -> Path:
    """``model.export(filepath, format="onnx")``: write ``model``'s inference graph to one ONNX file.

    The graph is checked with ``onnx.checker`` and written atomically.

    Parameters
    ----------
    model : Sequential or Functional
        A built model.
    filepath : str or os.PathLike
        The file to write.
    format : str, default "tf_saved_model"
        Keras's default, which deepfin cannot write, so ``"onnx"`` must be asked for.
    verbose : bool or None, default None
        Print where the file went.
    input_signature : None
        Not supported: the graph takes the model's own input shapes with a free batch axis.
    **kwargs
        Only ``opset_version`` (int), the ONNX opset; 17 by default.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If ``format`` is not ``"onnx"``, ``input_signature`` is given, the opset is not one the exporter and the
        installed onnx share, or the model cannot be exported (see ``to_onnx``).
    TypeError
        For another keyword argument.
    ImportError
        If onnx is not installed.
    """
    if format != "onnx":
        raise ValueError(
            "deepfin exports format='onnx' only (Keras's other formats need TensorFlow, OpenVINO, LiteRT or "
            f"PyTorch): call model.export(filepath, format='onnx'). Received: format={format!r}"
        )
    if input_signature is not None:
        raise ValueError(
            "input_signature is not supported: the ONNX graph takes the model's own input shapes with a free "
            "batch axis; give the model an Input or call model.build((None, n_features)) first. Received: "
            f"input_signature={input_signature!r:.80}"
        )
    opset_version = kwargs.pop("opset_version", None)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to export: {sorted(kwargs)}")
    write(to_onnx(model, opset_version), filepath)
    if verbose:
        print(f"Saved the ONNX graph of model '{model.name}' at '{os.fspath(filepath)}'.")
    return Path(filepath)


def to_onnx(model, opset_version: int | None = None):
    """The ``onnx.ModelProto`` of ``model``'s inference graph (see the module's docstring).

    Parameters
    ----------
    model : Sequential or Functional
        A built model of deepfin's own layers and activations.
    opset_version : int or None, default None
        The ONNX opset, from 13 to the newest the installed onnx knows; None gives 17.

    Returns
    -------
    onnx.ModelProto
        The graph, not yet checked or written (``write`` does both).

    Raises
    ------
    ValueError
        For a subclassed or unbuilt model, a layer or activation that is not deepfin's own, weights of mixed or
        non-float types, or an opset out of range.
    ImportError
        If onnx is not installed.

    Examples
    --------
    >>> from deepfin import Sequential, layers
    >>> from deepfin.export import to_onnx
    >>> model = Sequential([layers.Input((3,), name="features"), layers.Dense(2, activation="relu", name="hidden"),
    ...                     layers.Dense(1, activation="sigmoid", name="score")])
    >>> proto = to_onnx(model)
    >>> [node.op_type for node in proto.graph.node]
    ['MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Sigmoid', 'Identity']
    >>> proto.graph.input[0].name, proto.graph.output[0].name
    ('features', 'score')
    """
    opset = check_opset(opset_version)
    inputs, outputs = symbolic_graph(model)
    graph = GraphBuilder(export_dtype(model, inputs), opset)
    names = [graph.add_input(kt.name, kt.shape) for kt in inputs]
    for name, kt, value in zip(output_names(model, outputs), outputs, emit(graph, model, names)):
        graph.add_output(name, kt.shape, value)
    return graph.model(model.name, opset, f"deepfin model '{model.name}' ({type(model).__name__}), inference form")


def write(proto, filepath: str | os.PathLike) -> None:
    """Check ``proto`` with ``onnx.checker`` (shape inference included), then write it atomically.

    Parameters
    ----------
    proto : onnx.ModelProto
        The model.
    filepath : str or os.PathLike
        The file to write.

    Raises
    ------
    onnx.checker.ValidationError
        If the model does not pass the checker.
    """
    onnx = require_onnx()
    onnx.checker.check_model(proto, full_check=True)
    with atomic_write(filepath) as stream:
        stream.write(proto.SerializeToString())


def check_opset(opset_version) -> int:
    """``opset_version``, or the default, once known to be an opset this exporter and the installed onnx share.

    Parameters
    ----------
    opset_version : int or None
        The opset asked for; None gives ``DEFAULT_OPSET`` (17).

    Returns
    -------
    int
        The opset.

    Raises
    ------
    ValueError
        If it is not an integer from 13 to the newest the installed onnx knows.
    """
    newest = require_onnx().defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset_version must be an integer from {MIN_OPSET} to {newest} (the newest the installed "
                         f"onnx knows). Received: opset_version={opset_version!r}")
    return int(opset)


def symbolic_graph(model) -> tuple[list, list]:
    """The model's symbolic inputs and outputs; a model without a graph known before it runs is refused.

    Parameters
    ----------
    model : Model
        The model.

    Returns
    -------
    inputs : list
        ``model.inputs``.
    outputs : list
        ``model.outputs``.

    Raises
    ------
    ValueError
        For a subclassed model (or one whose ``call`` is overridden), or one without an input shape.
    """
    if not isinstance(model, (Sequential, Functional)) or type(model).call not in (Sequential.call, Functional.call):
        raise ValueError(
            "ONNX export needs a Sequential or functional model, whose graph is known before it runs; a subclassed "
            "model's call is Python code (rebuild it with deepfin.Input and layers). Received: "
            f"{type(model).__name__} '{getattr(model, 'name', model)}'"
        )
    if not model.built or not getattr(model, "outputs", None):
        raise ValueError(f"Model '{model.name}' has no input shape yet, so no graph to export: give it an Input "
                         "(or input_shape=) or call model.build((None, n_features)) first.")
    return list(model.inputs), list(model.outputs)


def export_dtype(model, inputs) -> np.dtype:
    """The one float type of the model's weights (of its inputs when it has none): float32 or float64.

    Parameters
    ----------
    model : Model
        The model.
    inputs : list
        Its symbolic inputs.

    Returns
    -------
    np.dtype
        float32 or float64.

    Raises
    ------
    ValueError
        If the weights mix types or are not float32 or float64.
    """
    kinds = {np.dtype(w.dtype) for w in model.weights} or {np.dtype(kt.dtype) for kt in inputs}
    if len(kinds) != 1 or not kinds <= {np.dtype("float32"), np.dtype("float64")}:
        raise ValueError(f"ONNX export needs one float type for the whole model, float32 or float64. Model "
                         f"'{model.name}' has {sorted(k.name for k in kinds)}.")
    return kinds.pop()


def output_names(model, outputs) -> list[str]:
    """The outputs' names as ``predict`` gives them: the output layers' names, or the keys of a dict of outputs.

    Parameters
    ----------
    model : Model
        The model.
    outputs : list
        Its symbolic outputs.

    Returns
    -------
    list of str
        One name per output.
    """
    keys = model.get_config().get("output_keys") if isinstance(model, Functional) else None
    return list(keys) if keys else [kt.layer.name for kt in outputs]


class GraphBuilder:
    """The nodes, weights, inputs and outputs of one ONNX graph in one float type, every tensor name unique.

    Parameters
    ----------
    dtype : np.dtype or str
        The graph's float type (float32 or float64).
    opset : int, default 17
        The ONNX opset the nodes are written for.

    Raises
    ------
    ImportError
        If onnx is not installed.
    """

    def __init__(self, dtype, opset: int = DEFAULT_OPSET):
        self.onnx, self.opset = require_onnx(), opset
        self.dtype = np.dtype(dtype)
        self.elem_type = self.onnx.helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self._names: set[str] = set()
        self._constants: dict[str, str] = {}
        self.domains: dict[str, int] = {}  # operator sets besides ONNX's own that the nodes use, with their version

    def fresh(self, name: str) -> str:
        """``name``, or ``name_1``, ``name_2``... when it is taken; the name is then taken.

        Parameters
        ----------
        name : str
            The name wanted.

        Returns
        -------
        str
            A name not used before in the graph.
        """
        return unique_name(name, self._names)

    def constant(self, name: str, value) -> str:
        """An initializer holding ``value`` in the graph's float type; its name.

        The same ``name`` again (a shared layer's weight) gives the same initializer.

        Parameters
        ----------
        name : str
            The name wanted, and the key under which the initializer is remembered.
        value : array_like
            The values, cast to the graph's float type.

        Returns
        -------
        str
            The initializer's name.
        """
        if name not in self._constants:
            stored = self.fresh(name)
            array = np.asarray(value, dtype=self.dtype)
            self.initializers.append(self.onnx.numpy_helper.from_array(array, stored))
            self._constants[name] = stored
        return self._constants[name]

    def integers(self, name: str, value) -> str:
        """An int64 initializer (axes, shapes, indices) holding ``value``; its name.

        The same ``name`` and value again give the same initializer.

        Parameters
        ----------
        name : str
            The name wanted.
        value : array_like
            The integers.

        Returns
        -------
        str
            The initializer's name.
        """
        key = f"int64:{name}:{np.asarray(value).tolist()}"
        if key not in self._constants:
            stored = self.fresh(name)
            self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(value, dtype=np.int64), stored))
            self._constants[key] = stored
        return self._constants[key]

    def reduce(self, op: str, x: str, axes: list[int], name: str, keepdims: int = 1) -> str:
        """A ``Reduce*`` node over ``axes``: an attribute up to opset 17, an input from 18.

        Parameters
        ----------
        op : str
            The operator (``"ReduceMean"``, ...).
        x : str
            The name of its input.
        axes : list of int
            The axes reduced.
        name : str
            The name wanted for its output.
        keepdims : int, default 1
            Whether the reduced axes are kept (1) or dropped (0).

        Returns
        -------
        str
            The output's name.
        """
        if self.opset >= 18:
            return self.node(op, [x, self.integers(f"{name}/axes", axes)], name, keepdims=keepdims)
        return self.node(op, [x], name, axes=axes, keepdims=keepdims)

    def ml_node(self, op: str, inputs: list[str], name: str, **attributes) -> str:
        """Add an ``op`` node of ONNX's machine-learning operator set (``ai.onnx.ml``, version 2).

        Parameters
        ----------
        op : str
            The operator.
        inputs : list of str
            The names of its inputs.
        name : str
            The name wanted for its output.
        **attributes
            The node's attributes.

        Returns
        -------
        str
            The output's name.
        """
        self.domains[ML_DOMAIN] = 2
        return self.node(op, inputs, name, domain=ML_DOMAIN, **attributes)

    def node(self, op: str, inputs: list[str], name: str, **attributes) -> str:
        """Add an ``op`` node; the name of its one output (also the node's name).

        Parameters
        ----------
        op : str
            The ONNX operator.
        inputs : list of str
            The names of its inputs.
        name : str
            The name wanted for its output (made unique).
        **attributes
            The node's attributes.

        Returns
        -------
        str
            The output's name.
        """
        output = self.fresh(name)
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [output], name=output, **attributes))
        return output

    def add_input(self, name: str, shape) -> str:
        """Add a graph input of ``shape`` (the first axis the free batch axis); its unique name.

        Parameters
        ----------
        name : str
            The name wanted.
        shape : tuple
            The shape, batch axis first; other None axes get names of their own.

        Returns
        -------
        str
            The input's name.
        """
        stored = self.fresh(name)
        self.inputs.append(self.onnx.helper.make_tensor_value_info(stored, self.elem_type, _dims(stored, shape)))
        return stored

    def add_output(self, name: str, shape, value: str) -> str:
        """Add a graph output of ``shape``, the tensor named ``value`` through an ``Identity`` node; its unique name.

        Parameters
        ----------
        name : str
            The name wanted.
        shape : tuple
            The shape, batch axis first.
        value : str
            The tensor the output carries.

        Returns
        -------
        str
            The output's name.
        """
        stored = self.fresh(name)
        self.nodes.append(self.onnx.helper.make_node("Identity", [value], [stored], name=stored))
        self.outputs.append(self.onnx.helper.make_tensor_value_info(stored, self.elem_type, _dims(stored, shape)))
        return stored

    def model(self, name: str, opset: int, doc: str, metadata: dict[str, str] | None = None):
        """The ``onnx.ModelProto`` of the graph built so far.

        Parameters
        ----------
        name : str
            The graph's name.
        opset : int
            The ONNX opset to import (with any other operator sets the nodes use).
        doc : str
            The graph's doc string.
        metadata : dict of str to str or None, default None
            The model's metadata properties.

        Returns
        -------
        onnx.ModelProto
            The model, produced by ``deepfin`` at this version.
        """
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, self.inputs, self.outputs, self.initializers, doc_string=doc)
        opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in self.domains.items()]
        proto = helper.make_model(graph, opset_imports=opsets, producer_name="deepfin", producer_version=__version__,
                                  ir_version=helper.find_min_ir_version_for(opsets))
        helper.set_model_props(proto, metadata or {})
        return proto


def _dims(name: str, shape) -> list:
    return [BATCH if i == 0 else f"{name}_dim{i}" if d is None else int(d) for i, d in enumerate(shape)]


def emit(graph: GraphBuilder, model, inputs: list[str], scope: str = "") -> list[str]:
    """Add ``model``'s layers to ``graph``, fed by the tensors named ``inputs``; the names of its outputs.

    Parameters
    ----------
    graph : GraphBuilder
        The graph to add to.
    model : Sequential or Functional
        The model.
    inputs : list of str
        The names of the tensors that feed the model's inputs, in order.
    scope : str, default ""
        A prefix for the names of the nodes and weights (``"network/"``).

    Returns
    -------
    list of str
        The names of the model's outputs in the graph.

    Raises
    ------
    ValueError
        If the number of inputs differs from the model's, or a layer cannot be exported.
    """
    model_inputs, model_outputs = symbolic_graph(model)
    if len(inputs) != len(model_inputs):
        raise ValueError(f"Model '{model.name}' has {len(model_inputs)} inputs; received {len(inputs)}.")
    values = {id(kt): name for kt, name in zip(model_inputs, inputs)}
    for kt in topological_order(model_outputs, lambda kt: kt.parents, stop=model_inputs):
        if not kt.parents:
            raise ValueError(f"Model '{model.name}' depends on input '{kt.name}', which is not among its inputs.")
        values[id(kt)] = emit_layer(graph, kt.layer, [values[id(p)] for p in kt.parents], scope, kt.call_arguments)
    return [values[id(kt)] for kt in model_outputs]


def emit_layer(graph: GraphBuilder, layer, xs: list[str], scope: str, options: dict | None = None) -> str:
    """Add one call of ``layer`` on the tensors named ``xs``; the name of its output.

    A nested Sequential or functional model of one output is spliced in, its names under its own scope.

    Parameters
    ----------
    graph : GraphBuilder
        The graph to add to.
    layer : Layer
        The layer called.
    xs : list of str
        The names of its inputs.
    scope : str
        The prefix of the names.
    options : dict or None, default None
        The call's options, such as MultiHeadAttention's ``use_causal_mask``.

    Returns
    -------
    str
        The name of the layer's output.

    Raises
    ------
    ValueError
        For a layer class ONNX export does not know (Python code), or a nested model of several outputs.
    """
    if isinstance(layer, (Sequential, Functional)):
        outputs = emit(graph, layer, xs, f"{scope}{layer.name}/")
        if len(outputs) != 1:
            raise ValueError(f"Nested model '{layer.name}' has {len(outputs)} outputs; ONNX export splices in nested "
                             "models of one output.")
        return outputs[0]
    convert = CONVERTERS.get(type(layer))
    if convert is None:
        raise ValueError(
            f"Layer '{layer.name}' of class {type(layer).__name__} cannot be exported to ONNX: its call is Python "
            f"code. ONNX export knows deepfin's own layers: {', '.join(sorted(c.__name__ for c in CONVERTERS))}."
        )
    return convert(graph, layer, xs, f"{scope}{layer.name}", **(options or {}))


# ------------------------------------------------------------------ one converter per layer class
def _affine(graph: GraphBuilder, x: str, kernel, bias, name: str, suffix: str = "") -> str:
    out = graph.node("MatMul", [x, graph.constant(f"{name}/kernel{suffix}", kernel)], f"{name}/MatMul{suffix}")
    if bias is None:
        return out
    return graph.node("Add", [out, graph.constant(f"{name}/bias{suffix}", bias)], f"{name}/BiasAdd{suffix}")


def _dense(graph, layer, xs, name):
    bias = None if layer.bias is None else layer.bias.numpy()
    return activation(graph, layer.activation, _affine(graph, xs[0], layer.kernel.numpy(), bias, name), name,
                      layer.name)


def _maxout(graph, layer, xs, name):
    """Each piece's own product (columns ``p::pieces`` of the kernel), then their elementwise maximum."""
    kernel, bias, n = layer.kernel.numpy(), layer.bias, layer.pieces
    pieces = [_affine(graph, xs[0], kernel[:, p::n], None if bias is None else bias.numpy()[p::n], name, f"_{p}")
              for p in range(n)]
    return pieces[0] if n == 1 else graph.node("Max", pieces, f"{name}/Max")


def _batch_normalization(graph, layer, xs, name):
    """``(x - moving_mean) * (1 / sqrt(moving_variance + epsilon)) * gamma + beta``, in ``predict``'s order."""
    inv = 1.0 / (layer.moving_variance.numpy() + layer.epsilon) ** 0.5
    out = graph.node("Sub", [xs[0], graph.constant(f"{name}/moving_mean", layer.moving_mean.numpy())], f"{name}/Sub")
    out = graph.node("Mul", [out, graph.constant(f"{name}/inverse_std", inv)], f"{name}/Normalize")
    if layer.gamma is not None:
        out = graph.node("Mul", [out, graph.constant(f"{name}/gamma", layer.gamma.numpy())], f"{name}/Scale")
    if layer.beta is not None:
        out = graph.node("Add", [out, graph.constant(f"{name}/beta", layer.beta.numpy())], f"{name}/Shift")
    return out


def _relu(graph, layer, xs, name):
    """``x`` above ``threshold``, ``negative_slope * (x - threshold)`` below, capped at ``max_value``."""
    x, t, slope = xs[0], layer.threshold, layer.negative_slope
    if t == 0:
        out = graph.node("LeakyRelu", [x], f"{name}/LeakyRelu", alpha=slope) if slope else \
            graph.node("Relu", [x], f"{name}/Relu")
    else:
        above = graph.node("Greater", [x, graph.constant(f"{name}/threshold", t)], f"{name}/Above")
        below = graph.node("Sub", [x, graph.constant(f"{name}/threshold", t)], f"{name}/Shifted")
        below = graph.node("Mul", [below, graph.constant(f"{name}/negative_slope", slope)], f"{name}/Below")
        out = graph.node("Where", [above, x, below], f"{name}/Where")
    if layer.max_value is None:
        return out
    return graph.node("Min", [out, graph.constant(f"{name}/max_value", layer.max_value)], f"{name}/Cap")


def _chain(op: str):
    def convert(graph, layer, xs, name):
        out = xs[0]
        for i, x in enumerate(xs[1:]):
            out = graph.node(op, [out, x], f"{name}/{op}" + (f"_{i}" if i else ""))
        return out
    return convert


def _dot(graph, layer, xs, name):
    """``Dot``: each input to (batch, rows, d) or (batch, d, columns), one MatMul, the axis a vector input added
    taken out again; with ``normalize``, each input divided by its L2 norm first (Keras's 1e-12 floor)."""
    ranks = layer.input_ranks
    axes = layer.contracted_axes(ranks)
    x, y = xs
    if layer.normalize:
        x, y = (_l2_normalized(graph, v, axis, f"{name}/Normalized{i}") for i, (v, axis) in enumerate(zip(xs, axes)))
    if ranks[0] == 2:
        x = graph.node("Unsqueeze", [x, graph.integers(f"{name}/axis1", [1])], f"{name}/RowVector")
    elif axes[0] == 1:
        x = graph.node("Transpose", [x], f"{name}/LeftTransposed", perm=[0, 2, 1])
    if ranks[1] == 2:
        y = graph.node("Unsqueeze", [y, graph.integers(f"{name}/axis2", [2])], f"{name}/ColumnVector")
    elif axes[1] == 2:
        y = graph.node("Transpose", [y], f"{name}/RightTransposed", perm=[0, 2, 1])
    out = graph.node("MatMul", [x, y], f"{name}/MatMul")
    if ranks == (2, 2):
        return graph.node("Squeeze", [out, graph.integers(f"{name}/axis2", [2])], f"{name}/Squeeze")
    if 2 in ranks:
        added = [1] if ranks[0] == 2 else [2]
        return graph.node("Squeeze", [out, graph.integers(f"{name}/added", added)], f"{name}/Squeeze")
    return out


def _l2_normalized(graph, x: str, axis: int, name: str) -> str:
    squares = graph.reduce("ReduceSumSquare", x, [axis], f"{name}/SumOfSquares")
    floor = graph.node("Max", [squares, graph.constant(f"{name}/floor", 1e-12)], f"{name}/Floored")
    return graph.node("Div", [x, graph.node("Sqrt", [floor], f"{name}/Norm")], f"{name}/Divided")


def _time_major(graph, x: str, name: str) -> str:
    return graph.node("Transpose", [x], f"{name}/TimeMajor", perm=[1, 0, 2])


_ONNX_GATES = {"LSTM": ([0, 3, 1, 2], 4), "GRU": ([0, 1, 2], 3), "SimpleRNN": ([0], 1)}  # Keras's gates, in ONNX's


def _recurrent(graph, layer, xs, name):
    """ONNX's LSTM, GRU (``linear_before_reset`` for Keras's ``reset_after``) or RNN op, from Keras's weights:
    kernels transposed, LSTM gates reordered from Keras's [i, f, c, o] to ONNX's [i, o, f, c]."""
    kind = type(layer).__name__
    if kind not in _ONNX_GATES:
        raise ValueError(f"Layer '{layer.name}' of class {kind} cannot be exported inside Bidirectional: ONNX "
                         f"export knows {', '.join(sorted(_ONNX_GATES))} there.")
    if layer.return_state:
        raise ValueError(f"Layer '{layer.name}': ONNX export takes recurrent layers without return_state.")
    if activations.builtin_name(layer.activation) != "tanh" or (
            kind != "SimpleRNN" and activations.builtin_name(layer.recurrent_activation) != "sigmoid"):
        raise ValueError(f"Layer '{layer.name}': ONNX export takes the default activations (tanh, sigmoid gates).")
    order, gates = _ONNX_GATES[kind]
    units = layer.units

    def reorder(matrix):  # (rows, gates x units) to ONNX's (1, gates x units, rows)
        blocks = [matrix[..., g * units:(g + 1) * units] for g in order]
        return np.concatenate(blocks, axis=-1).T[None]

    kernel, recurrent = layer.kernel.numpy(), layer.recurrent_kernel.numpy()
    width = gates * units
    if layer.bias is None:
        bias = np.zeros(2 * width)
    elif layer.bias.ndim == 2:  # GRU with reset_after: input bias, recurrent bias
        input_bias, recurrent_bias = layer.bias.numpy()
        bias = np.concatenate([reorder(input_bias[None])[0, :, 0], reorder(recurrent_bias[None])[0, :, 0]])
    else:
        bias = np.concatenate([reorder(layer.bias.numpy()[None])[0, :, 0], np.zeros(width)])
    op = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}[kind]
    attributes = {"hidden_size": units}
    if kind == "GRU":
        if not layer.reset_after:
            raise ValueError(f"Layer '{layer.name}': ONNX export takes GRU(reset_after=True).")
        attributes["linear_before_reset"] = 1
    if kind == "SimpleRNN":
        attributes["activations"] = ["Tanh"]
    if layer.go_backwards:  # ONNX's reverse direction: its output at step t is the state after reading x[t]
        attributes["direction"] = "reverse"
    inputs = [_time_major(graph, xs[0], name), graph.constant(f"{name}/W", reorder(kernel)),
              graph.constant(f"{name}/R", reorder(recurrent)), graph.constant(f"{name}/B", bias[None])]
    sequence = graph.node(op, inputs, f"{name}/{op}", **attributes)  # (steps, 1, batch, units)
    sequence = graph.node("Squeeze", [sequence, graph.integers(f"{name}/axis1", [1])], f"{name}/Squeeze")
    if layer.return_sequences:
        if layer.go_backwards:  # Keras gives the states in the order it read the steps: last step first
            sequence = _reversed_steps(graph, sequence, name)
        return _time_major(graph, sequence, f"{name}/BatchMajor")
    final = 0 if layer.go_backwards else -1  # the state after the last step read
    return graph.node("Gather", [sequence, graph.integers(f"{name}/last", final)], f"{name}/Last", axis=0)


def _reversed_steps(graph, sequence: str, name: str) -> str:
    """``sequence`` (steps first) with its steps in reverse order."""
    return graph.node("Slice", [sequence, graph.integers(f"{name}/from_last", [-1]),
                                graph.integers(f"{name}/past_first", [-2**63]), graph.integers(f"{name}/axis0", [0]),
                                graph.integers(f"{name}/step_back", [-1])], f"{name}/Reversed")


def _bidirectional(graph, layer, xs, name):
    """``Bidirectional``: its two recurrent layers, the backward one's states put back in time order, merged."""
    if layer.return_state or layer.merge_mode is None:
        raise ValueError(f"Layer '{layer.name}': ONNX export takes Bidirectional with one output (no return_state, "
                         "a merge_mode).")
    forward = _recurrent(graph, layer.forward_layer, xs, f"{name}/forward")
    backward = _recurrent(graph, layer.backward_layer, xs, f"{name}/backward")
    if layer.return_sequences:
        backward = _time_major(graph, _reversed_steps(graph, _time_major(graph, backward, f"{name}/backward_steps"),
                                                      f"{name}/backward"), f"{name}/backward_batch")
    if layer.merge_mode == "concat":
        return graph.node("Concat", [forward, backward], f"{name}/Concat", axis=-1)
    if layer.merge_mode == "ave":
        return graph.node("Mean", [forward, backward], f"{name}/Mean")
    return graph.node({"sum": "Add", "mul": "Mul"}[layer.merge_mode], [forward, backward], f"{name}/Merge")


def _time_distributed(graph, layer, xs, name):
    """``TimeDistributed``: the inner layer on (batch x steps, ...), its output put back to (batch, steps, ...)."""
    shape = graph.node("Shape", xs, f"{name}/Shape")
    lead = graph.node("Slice", [shape, graph.integers(f"{name}/zero", [0]), graph.integers(f"{name}/two", [2])],
                      f"{name}/BatchAndSteps")
    rest = graph.node("Slice", [shape, graph.integers(f"{name}/two", [2]), graph.integers(f"{name}/end", [2**62])],
                      f"{name}/Rest")
    flat_shape = graph.node("Concat", [graph.integers(f"{name}/minus_one", [-1]), rest], f"{name}/FlatShape", axis=0)
    flat = graph.node("Reshape", [xs[0], flat_shape], f"{name}/Flat")
    inner = emit_layer(graph, layer.layer, [flat], f"{name}/")
    inner_rest = graph.node("Slice", [graph.node("Shape", [inner], f"{name}/InnerShape"),
                                      graph.integers(f"{name}/one", [1]), graph.integers(f"{name}/end", [2**62])],
                            f"{name}/InnerRest")
    out_shape = graph.node("Concat", [lead, inner_rest], f"{name}/OutShape", axis=0)
    return graph.node("Reshape", [inner, out_shape], f"{name}/Unflat")


def _conv1d(graph, layer, xs, name):
    """ONNX's Conv on (batch, channels, steps): Keras's (taps, in, filters) kernel as (filters, in, taps)."""
    if layer.padding == "same" and layer.strides > 1:
        raise ValueError(f"Layer '{layer.name}': ONNX export takes padding='same' with strides 1.")
    span = layer.dilation_rate * (layer.kernel_size - 1)
    before, after = {"valid": (0, 0), "causal": (span, 0), "same": (span // 2, span - span // 2)}[layer.padding]
    x = graph.node("Transpose", [xs[0]], f"{name}/ChannelsFirst", perm=[0, 2, 1])
    inputs = [x, graph.constant(f"{name}/kernel", layer.kernel.numpy().transpose(2, 1, 0))]
    if layer.bias is not None:
        inputs.append(graph.constant(f"{name}/bias", layer.bias.numpy()))
    out = graph.node("Conv", inputs, f"{name}/Conv", strides=[layer.strides], dilations=[layer.dilation_rate],
                     pads=[before, after], kernel_shape=[layer.kernel_size])
    out = graph.node("Transpose", [out], f"{name}/ChannelsLast", perm=[0, 2, 1])
    return activation(graph, layer.activation, out, name, layer.name)


def _pooling(op: str):
    def convert(graph, layer, xs, name):
        if layer.padding != "valid":
            raise ValueError(f"Layer '{layer.name}': ONNX export takes 1-D pooling with padding='valid'.")
        x = graph.node("Transpose", [xs[0]], f"{name}/ChannelsFirst", perm=[0, 2, 1])
        out = graph.node(op, [x], f"{name}/{op}", kernel_shape=[layer.pool_size], strides=[layer.strides])
        return graph.node("Transpose", [out], f"{name}/ChannelsLast", perm=[0, 2, 1])
    return convert


def _global_pooling(op: str):
    def convert(graph, layer, xs, name):
        return graph.reduce(op, xs[0], [1], f"{name}/{op}", keepdims=int(layer.keepdims))
    return convert


def _multi_head_attention(graph, layer, xs, name, use_causal_mask=False, return_attention_scores=False,
                          attention_mask_last=False):
    """``MultiHeadAttention`` as its call computes it: the projections per head, scaled dot products, the
    attention mask a model input gives (``attention_mask_last``: after the key) and an optional causal mask
    (ONNX's Trilu, opset 14 and later), softmax, the weighted values and the output projection."""
    if return_attention_scores:
        raise ValueError(f"Layer '{layer.name}': ONNX export takes MultiHeadAttention without "
                         "return_attention_scores (one output).")
    if use_causal_mask and graph.opset < 14:
        raise ValueError(f"Layer '{layer.name}': ONNX export of a causal mask needs opset_version 14 or later.")
    query, value = xs[0], xs[1]
    key = xs[2] if len(xs) > 2 else value
    given = None
    if attention_mask_last:  # (batch, query steps, value steps), true where a query may attend
        given = graph.node("Unsqueeze", [graph.node("Greater", [xs[3], graph.constant(f"{name}/half", 0.5)],
                                                    f"{name}/given_mask"), graph.integers(f"{name}/heads_axis", [1])],
                           f"{name}/given_mask_per_head")

    def heads(x, kernel, bias, part):  # (batch, steps, features) to (batch, heads, steps, width)
        features, count, width = kernel.shape
        out = graph.node("MatMul", [x, graph.constant(f"{name}/{part}_kernel",
                                                      kernel.numpy().reshape(features, count * width))],
                         f"{name}/{part}")
        if bias is not None:
            out = graph.node("Add", [out, graph.constant(f"{name}/{part}_bias", bias.numpy().reshape(-1))],
                             f"{name}/{part}_biased")
        out = graph.node("Reshape", [out, graph.integers(f"{name}/{part}_split", [0, 0, count, width])],
                         f"{name}/{part}_heads")
        return graph.node("Transpose", [out], f"{name}/{part}_head_major", perm=[0, 2, 1, 3])

    q = graph.node("Mul", [heads(query, layer.query_kernel, layer.query_bias, "query"),
                           graph.constant(f"{name}/scale", 1.0 / math.sqrt(layer.key_dim))], f"{name}/scaled_query")
    k = heads(key, layer.key_kernel, layer.key_bias, "key")
    v = heads(value, layer.value_kernel, layer.value_bias, "value")
    scores = graph.node("MatMul", [q, graph.node("Transpose", [k], f"{name}/key_t", perm=[0, 1, 3, 2])],
                        f"{name}/scores")
    if use_causal_mask:
        ones = graph.node("ConstantOfShape", [graph.node("Shape", [scores], f"{name}/scores_shape")],
                          f"{name}/ones", value=graph.onnx.numpy_helper.from_array(np.ones(1, np.float32)))
        allowed = graph.node("Cast", [graph.node("Trilu", [ones], f"{name}/lower", upper=0)], f"{name}/allowed",
                             to=graph.onnx.TensorProto.BOOL)
        given = allowed if given is None else graph.node("And", [given, allowed], f"{name}/both_masks")
    if given is not None:
        scores = graph.node("Where", [given, scores, graph.constant(f"{name}/masked", -1e9)], f"{name}/masked_scores")
    weights = graph.node("Softmax", [scores], f"{name}/weights", axis=-1)
    attended = graph.node("Transpose", [graph.node("MatMul", [weights, v], f"{name}/attended")],
                          f"{name}/step_major", perm=[0, 2, 1, 3])
    count, width, out_width = layer.output_kernel.shape
    flat = graph.node("Reshape", [attended, graph.integers(f"{name}/merge_heads", [0, 0, count * width])],
                      f"{name}/merged")
    out = graph.node("MatMul", [flat, graph.constant(f"{name}/output_kernel",
                                                     layer.output_kernel.numpy().reshape(count * width, out_width))],
                     f"{name}/output")
    if layer.output_bias is not None:
        out = graph.node("Add", [out, graph.constant(f"{name}/output_bias", layer.output_bias.numpy())],
                         f"{name}/output_biased")
    return out


def _integer_lookup(graph, layer, xs, name):
    """``IntegerLookup`` (identifiers to indices, ``output_mode='int'``) as ONNX-ML's LabelEncoder: the
    vocabulary's identifiers to their indices, any other to the OOV index."""
    if layer.invert or layer.output_mode != "int" or layer.num_oov_indices != 1:
        raise ValueError(f"Layer '{layer.name}': ONNX export takes IntegerLookup with output_mode='int', one OOV "
                         "index and invert=False.")
    tokens = layer.get_vocabulary()
    first = len(tokens) - len(layer.vocabulary)
    keys = [int(v) for v in layer.vocabulary] + ([] if layer.mask_token is None else [int(layer.mask_token)])
    values = list(range(first, len(tokens))) + ([] if layer.mask_token is None else [0])
    ids = graph.node("Cast", [xs[0]], f"{name}/Identifiers", to=graph.onnx.TensorProto.INT64)
    indices = graph.ml_node("LabelEncoder", [ids], f"{name}/LabelEncoder", keys_int64s=keys, values_int64s=values,
                            default_int64=first - 1)
    return graph.node("Cast", [indices], f"{name}/Indices", to=graph.elem_type)


def _masking(graph, layer, xs, name):
    raise ValueError(f"Layer '{layer.name}' (Masking) marks padded steps with a mask, and ONNX export carries no "
                     "masks: the exported model would read padded steps as real ones. Export a model without "
                     "Masking (or mask_zero).")


def _embedding(graph, layer, xs, name):
    """``Embedding`` as a Gather of its table; with ``mask_zero`` refused: ONNX carries no masks, so the layers
    after it would read the padding as real steps (the exported model's outputs would differ from predict's)."""
    if layer.mask_zero:
        raise ValueError(f"Layer '{layer.name}' marks identifier 0 as padding (mask_zero=True), and ONNX export "
                         "carries no masks: the exported model would read padded steps as real ones. Export a "
                         "model without mask_zero (or Masking).")
    ids = graph.node("Cast", [xs[0]], f"{name}/Identifiers", to=graph.onnx.TensorProto.INT64)
    return graph.node("Gather", [graph.constant(f"{name}/embeddings", layer.embeddings.numpy()), ids],
                      f"{name}/Gather", axis=0)


def _layer_normalization(graph, layer, xs, name):
    """``(x - mean) / sqrt(variance + epsilon) * gamma + beta`` over the layer's axes, as ``call`` computes it."""
    axes = list(layer.normalized_axes)
    mean = graph.reduce("ReduceMean", xs[0], axes, f"{name}/Mean")
    centred = graph.node("Sub", [xs[0], mean], f"{name}/Centred")
    variance = graph.reduce("ReduceMean", graph.node("Mul", [centred, centred], f"{name}/Square"), axes,
                            f"{name}/Variance")
    deviation = graph.node("Sqrt", [graph.node("Add", [variance, graph.constant(f"{name}/epsilon", layer.epsilon)],
                                               f"{name}/PlusEpsilon")], f"{name}/Deviation")
    out = graph.node("Div", [xs[0] if layer.rms_scaling else centred, deviation], f"{name}/Normalized")
    if layer.gamma is not None:
        gamma = layer.gamma.numpy().reshape(layer.parameter_shape)
        out = graph.node("Mul", [out, graph.constant(f"{name}/gamma", gamma)], f"{name}/Scale")
    if layer.beta is not None:
        beta = layer.beta.numpy().reshape(layer.parameter_shape)
        out = graph.node("Add", [out, graph.constant(f"{name}/beta", beta)], f"{name}/Shift")
    return out


CONVERTERS = {
    Dense: _dense,
    Maxout: _maxout,
    BatchNormalization: _batch_normalization,
    Activation: lambda graph, layer, xs, name: activation(graph, layer.activation, xs[0], name, layer.name),
    ReLU: _relu,
    LeakyReLU: lambda graph, layer, xs, name: graph.node("LeakyRelu", xs, f"{name}/LeakyRelu",
                                                          alpha=layer.negative_slope),
    ELU: lambda graph, layer, xs, name: graph.node("Elu", xs, f"{name}/Elu", alpha=layer.alpha),
    Softmax: lambda graph, layer, xs, name: graph.node("Softmax", xs, f"{name}/Softmax", axis=layer.axis),
    Dropout: lambda graph, layer, xs, name: graph.node("Identity", xs, f"{name}/Identity"),
    Flatten: lambda graph, layer, xs, name: graph.node("Flatten", xs, f"{name}/Flatten", axis=1),
    Add: _chain("Add"),
    Subtract: _chain("Sub"),
    Multiply: _chain("Mul"),
    Concatenate: lambda graph, layer, xs, name: graph.node("Concat", xs, f"{name}/Concat", axis=layer.axis),
    Average: lambda graph, layer, xs, name: graph.node("Mean", xs, f"{name}/Mean"),
    Maximum: lambda graph, layer, xs, name: graph.node("Max", xs, f"{name}/Max"),
    Minimum: lambda graph, layer, xs, name: graph.node("Min", xs, f"{name}/Min"),
    Dot: _dot,
    LSTM: _recurrent,
    GRU: _recurrent,
    SimpleRNN: _recurrent,
    Bidirectional: _bidirectional,
    TimeDistributed: _time_distributed,
    Conv1D: _conv1d,
    MaxPooling1D: _pooling("MaxPool"),
    AveragePooling1D: _pooling("AveragePool"),
    GlobalAveragePooling1D: _global_pooling("ReduceMean"),
    GlobalMaxPooling1D: _global_pooling("ReduceMax"),
    Embedding: _embedding,
    Masking: _masking,
    IntegerLookup: _integer_lookup,
    MultiHeadAttention: _multi_head_attention,
    LayerNormalization: _layer_normalization,
    Reshape: lambda graph, layer, xs, name: graph.node(
        "Reshape", [xs[0], graph.integers(f"{name}/shape", [0, *layer.target_shape])], f"{name}/Reshape"),
    Permute: lambda graph, layer, xs, name: graph.node("Transpose", xs, f"{name}/Transpose", perm=[0, *layer.dims]),
    Rescaling: lambda graph, layer, xs, name: graph.node(
        "Add", [graph.node("Mul", [xs[0], graph.constant(f"{name}/scale", layer.scale)], f"{name}/Scale"),
                graph.constant(f"{name}/offset", layer.offset)], f"{name}/Offset"),
    GaussianNoise: lambda graph, layer, xs, name: graph.node("Identity", xs, f"{name}/Identity"),
    GaussianDropout: lambda graph, layer, xs, name: graph.node("Identity", xs, f"{name}/Identity"),
    AlphaDropout: lambda graph, layer, xs, name: graph.node("Identity", xs, f"{name}/Identity"),
}


# ------------------------------------------------------------------ activations
_ONE_OP = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus", "leaky_relu": "LeakyRelu",
           "elu": "Elu", "softmax": "Softmax", "log_softmax": "LogSoftmax"}
_PARAMETER = {"leaky_relu": "negative_slope", "elu": "alpha", "softmax": "axis", "log_softmax": "axis"}
_ONNX_ATTRIBUTE = {"negative_slope": "alpha", "alpha": "alpha", "axis": "axis"}
ACTIVATIONS = ("linear", "step", *_ONE_OP)  # the built-in activations ONNX export translates


def activation(graph: GraphBuilder, fn, x: str, name: str, layer_name: str) -> str:
    """Apply the built-in activation ``fn`` (with its default parameters, as a layer calls it) to ``x``.

    Parameters
    ----------
    graph : GraphBuilder
        The graph to add to.
    fn : callable
        The activation.
    x : str
        The name of its input.
    name : str
        The prefix of the node's name.
    layer_name : str
        The layer's name, for the error message.

    Returns
    -------
    str
        The name of the result (``x`` itself for ``linear``).

    Raises
    ------
    ValueError
        If ``fn`` is not one of the built-in activations in ``ACTIVATIONS``.
    """
    kind = builtin_activation(fn)
    if kind is None:
        raise ValueError(f"Layer '{layer_name}' uses the activation {fn!r}, which is not one of deepfin's own, so "
                         f"ONNX export cannot translate it. Built-in activations: {', '.join(sorted(ACTIVATIONS))}.")
    if kind == "linear":
        return x
    if kind == "step":  # 1 where x > 0, else 0
        above = graph.node("Greater", [x, graph.constant(f"{name}/zero", 0.0)], f"{name}/Above")
        return graph.node("Cast", [above], f"{name}/Step", to=graph.elem_type)
    attributes = {}
    if kind in _PARAMETER:
        parameter = _PARAMETER[kind]
        attributes[_ONNX_ATTRIBUTE[parameter]] = inspect.signature(fn).parameters[parameter].default
    return graph.node(_ONE_OP[kind], [x], f"{name}/{_ONE_OP[kind]}", **attributes)


def builtin_activation(fn) -> str | None:
    """The name of ``fn`` when it is one of deepfin's activations that ONNX export translates, else ``None``.

    Parameters
    ----------
    fn : callable
        An activation.

    Returns
    -------
    str or None
        One of ``ACTIVATIONS``, or None.
    """
    name = activations.builtin_name(fn)
    return name if name in ACTIVATIONS else None
