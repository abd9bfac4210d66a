"""A model's graph as a TensorFlow ``GraphDef``, for the Graphs tab of TensorBoard.

The model runs once on a batch of zeros, in inference mode (no dropout drawn, no batch statistics
updated), one layer call at a time, and the engine's graph of each call is written under the
layer's name as TensorFlow's name scopes write it: ``dense/MatMul``, ``dense/BiasAdd``,
``dense/Relu``, the weights as ``dense/kernel`` and ``dense/bias`` (``VarHandleOp``), each model
input a ``Placeholder``, constants ``Const``. TensorBoard folds each scope into one box that opens
on a click, and labels each edge with the shape it carries (``?`` for the batch axis).
"""

from __future__ import annotations

import numpy as np

from deepfin._text import unique_name
from deepfin.engine.graph import tensors_behind
from deepfin.engine.tensor import Tensor
from deepfin.engine.variable import Variable
from deepfin.layers.symbolic import trace

# engine operation -> TensorFlow op type; others are written in CamelCase (maxout -> Maxout)
_TF_OPS = {
    "add": "AddV2", "sub": "Sub", "mul": "Mul", "div": "RealDiv", "neg": "Neg", "pow": "Pow",
    "matmul": "MatMul", "sum": "Sum", "max": "Max", "reshape": "Reshape", "transpose": "Transpose",
    "slice": "StridedSlice", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "square": "Square",
    "clip": "ClipByValue", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "leaky_relu": "LeakyRelu",
    "elu": "Elu", "softplus": "Softplus", "softmax": "Softmax", "log_softmax": "LogSoftmax",
    "concatenate": "ConcatV2", "batch_normalization": "FusedBatchNormV3",
}


def model_graph_def(model):
    """The ``GraphDef`` (tensorboardX's protobuf) of ``model``'s forward pass, scoped by layer.

    Parameters
    ----------
    model : Model
        A built Sequential or functional model (their wiring is known before they run).

    Returns
    -------
    GraphDef or None
        The graph; ``None`` for any other model.
    """
    outputs = getattr(model, "outputs", None)
    if not model.built or not outputs:
        return None
    writer = _GraphWriter()
    values: dict[int, tuple[list[Tensor], list[str]]] = {}  # symbolic tensor -> engine tensors, names
    for kt in trace(outputs):
        if not kt.parents:
            values[id(kt)] = writer.placeholder(kt)
            continue
        tensors, names = [], []
        for parent in kt.parents:
            tensors += values[id(parent)][0]
            names += values[id(parent)][1]
        args = tensors if len(kt.parents) > 1 else tensors[0]
        result = kt.layer(args, training=False)
        results = list(result) if isinstance(result, (list, tuple)) else [result]
        values[id(kt)] = (results, writer.layer_call(kt.layer.name, list(zip(tensors, names)), results))
    return writer.graph


class _GraphWriter:
    """Collects ``NodeDef`` s with unique names; remembers which engine tensor each node computes."""

    def __init__(self):
        from tensorboardX.proto import graph_pb2

        self.graph = graph_pb2.GraphDef()
        self.taken: set[str] = set()
        self.variables: dict[int, str] = {}
        self.batched: set[int] = set()  # engine tensors whose first axis is the batch
        self.keep: list[Tensor] = []  # keeps every tensor alive, so that no id() is reused

    def placeholder(self, kt) -> tuple[list[Tensor], list[str]]:
        shape = tuple(1 if d is None else d for d in kt.shape)
        tensor = Tensor(np.zeros(shape, dtype=kt.dtype), requires_grad=True)
        self.keep.append(tensor)
        self.batched.add(id(tensor))
        name = self.node(kt.name, "Placeholder", [], tensor, dtype_attr="dtype", shape_attr=True)
        return [tensor], [name]

    def layer_call(self, scope: str, inputs: list[tuple[Tensor, str]], results: list[Tensor]) -> list[str]:
        """Write the operations between a layer's ``inputs`` (named) and ``results`` under ``scope``."""
        names = {id(t): name for t, name in inputs}
        names.update(self.variables)
        stop = [t for t in self.keep if id(t) in names] + [t for t, _ in inputs]
        out_names = []
        for result in results:
            for node in tensors_behind(result, stop=stop):
                self.keep.append(node)
                names[id(node)] = self._tensor(scope, node, names)
            stop.append(result)
            name = names[id(result)]
            if any(result is t for t, _ in inputs):  # the layer passed its input through
                name = self.node(f"{scope}/Identity", "Identity", [name], result)
            out_names.append(name)
        return out_names

    def _tensor(self, scope: str, node: Tensor, names: dict[int, str]) -> str:
        if not node.parents:
            if isinstance(node, Variable):
                path = node.path if node.path.startswith(scope + "/") else f"{scope}/{node.path}"
                self.variables[id(node)] = self.node(path, "VarHandleOp", [], node, dtype_attr="dtype",
                                                     shape_attr=True)
                return self.variables[id(node)]
            return self.node(f"{scope}/Const", "Const", [], node, dtype_attr="dtype")
        if any(id(p) in self.batched for p in node.parents):
            self.batched.add(id(node))
        inputs = [names[id(p)] for p in node.parents]
        if node.op == "dense":
            return self._dense(scope, node, inputs)
        op = _TF_OPS.get(node.op) or "".join(part.capitalize() for part in node.op.split("_"))
        return self.node(f"{scope}/{op}", op, inputs, node)

    def _dense(self, scope: str, node: Tensor, inputs: list[str]) -> str:
        """The fused dense operation as TensorFlow writes it: MatMul, BiasAdd, then its activation."""
        name = self.node(f"{scope}/MatMul", "MatMul", inputs[:2], node)
        if len(inputs) > 2:
            name = self.node(f"{scope}/BiasAdd", "BiasAdd", [name, inputs[2]], node)
        activation = node.op_attributes.get("activation")
        if activation not in (None, "linear"):
            op = _TF_OPS.get(activation, activation.capitalize())
            name = self.node(f"{scope}/{op}", op, [name], node)
        return name

    def node(self, name: str, op: str, inputs: list[str], tensor: Tensor, dtype_attr: str = "T",
             shape_attr: bool = False) -> str:
        """Add a ``NodeDef`` named ``name`` (made unique, TensorFlow style: ``_1``, ``_2``); its name."""
        from tensorboardX.proto import attr_value_pb2

        unique = unique_name(name, self.taken)
        shape = _shape_proto(tensor, id(tensor) in self.batched)
        node = self.graph.node.add(name=unique, op=op, input=inputs)
        node.attr[dtype_attr].CopyFrom(attr_value_pb2.AttrValue(type=_dtype_enum(tensor.dtype)))
        if shape_attr:
            node.attr["shape"].CopyFrom(attr_value_pb2.AttrValue(shape=shape))
        node.attr["_output_shapes"].CopyFrom(
            attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(shape=[shape])))
        return unique


def _shape_proto(tensor: Tensor, batched: bool):
    from tensorboardX.proto import tensor_shape_pb2

    dims = [-1 if batched and axis == 0 else int(d) for axis, d in enumerate(tensor.shape)]
    return tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in dims])


def _dtype_enum(dtype) -> int:
    from tensorboardX.proto import types_pb2

    return {"float32": types_pb2.DT_FLOAT, "float64": types_pb2.DT_DOUBLE, "float16": types_pb2.DT_HALF,
            "int32": types_pb2.DT_INT32, "int64": types_pb2.DT_INT64, "bool": types_pb2.DT_BOOL,
            }.get(np.dtype(dtype).name, types_pb2.DT_INVALID)
