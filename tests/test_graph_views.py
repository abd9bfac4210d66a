"""Seeing the graph: plot_model (layers), draw_graph (the engine's operations, forward and backward), and
TensorBoard's Graphs tab (write_graph), read back with TensorBoard's own EventAccumulator."""

import numpy as np
import pytest
from IPython.display import Image
from matplotlib.figure import Figure
from matplotlib.image import imread

from deepfin import Input
from deepfin.callbacks import TensorBoard
from deepfin.engine import Tensor, Variable, functions, fused
from deepfin.engine.graph import tensors_behind
from deepfin.layers import Add, Concatenate, Dense, Dropout
from deepfin.models import Model, Sequential
from deepfin.utils import draw_graph, plot_model, set_random_seed
from deepfin.utils.layered_layout import NODE_GAP, layered_layout
from deepfin.utils.model_visualization import layer_label
from tests.pictures import assert_not_blank

pytest.importorskip("tensorboardX")


def _sequential():
    return Sequential([Dense(8, activation="relu", input_dim=4, name="hidden"), Dropout(0.2, name="drop"),
                       Dense(1, activation="sigmoid", name="head")])


def _functional():
    """Two inputs, two branches merged by Concatenate, a residual Add: a graph, not a chain."""
    prices, macro = Input((4,), name="prices"), Input((3,), name="macro")
    a = Dense(8, activation="tanh", name="price_branch")(prices)
    b = Dense(8, name="macro_branch")(macro)
    merged = Concatenate(name="merge")([a, b])
    residual = Add(name="residual")([Dense(16, name="wide")(merged), merged])
    return Model([prices, macro], Dense(1, name="out")(residual))


def _size(path):
    height, width = imread(path).shape[:2]
    return width, height


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].texts]


# ------------------------------------------------------------------ the engine's graph
def test_tensors_name_their_operation_and_parents_without_engine_cost():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    kernel = Variable(np.ones((3, 2)), name="kernel")
    h = fused.dense(x * 2.0, kernel, None, "relu")
    loss = (h.exp().sum(axis=1) / 3.0)[0] - functions.square(x).mean()
    ops_seen = [t.op for t in tensors_behind(loss) if t.parents]
    assert ops_seen[-1] == "sub" and loss.parents[0].op == "slice"
    assert {"mul", "dense", "exp", "sum", "div", "square"} <= set(ops_seen)  # exp, square: through _unary
    assert x.op is None and x.parents == () and kernel.grad_fn is None
    order = tensors_behind(loss)
    position = {id(t): i for i, t in enumerate(order)}
    assert all(position[id(p)] < position[id(t)] for t in order for p in t.parents)  # parents first
    assert order[-1] is loss and len({id(t) for t in order}) == len(order)


def test_layered_layout_ranks_a_diamond_and_routes_a_long_edge_through_each_rank():
    sizes = [(40.0, 20.0)] * 5
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3), (3, 4)]
    layout = layered_layout(sizes, edges)
    depth = [c[1] for c in layout.centres]
    assert depth[0] < depth[1] == depth[2] < depth[3] < depth[4]
    assert abs(layout.centres[1][0] - layout.centres[2][0]) >= 40 + NODE_GAP  # side by side, no overlap
    long_edge = layout.paths[edges.index((0, 3))]
    assert len(long_edge) == 3 and long_edge[1][1] == depth[1]  # 0 -> a bend beside 1 and 2 -> 3
    assert min(abs(long_edge[1][0] - layout.centres[i][0]) for i in (1, 2)) >= 20 + NODE_GAP
    with pytest.raises(ValueError, match="cycle"):
        layered_layout(sizes[:2], [(0, 1), (1, 0)])


# ------------------------------------------------------------------ plot_model
def test_plot_model_draws_a_sequential_model_and_returns_what_keras_returns(tmp_path):
    model = _sequential()
    result = plot_model(model, to_file=tmp_path / "model.png", show_shapes=True, show_layer_names=True)
    assert isinstance(result, Image)  # as Keras, when IPython is installed
    assert_not_blank(tmp_path / "model.png")
    width, height = _size(tmp_path / "model.png")
    assert height > 400 and width > 400  # three boxes in a column at dpi=200
    plot_model(model, to_file=tmp_path / "plain.png")
    assert _size(tmp_path / "plain.png")[1] < height  # show_shapes adds a row to each box
    assert plot_model(model, to_file=tmp_path / "model.pdf") is None
    assert (tmp_path / "model.pdf").read_bytes().startswith(b"%PDF")
    plot_model(model, to_file=tmp_path / "model.svg")
    assert b"<svg" in (tmp_path / "model.svg").read_bytes()[:500]


def test_layer_labels_are_keras_labels():
    model = _sequential()
    hidden, drop = model.layers[0], model.layers[1]
    rows = layer_label(hidden, (None, 4), (None, 8), "float32", show_shapes=True, show_dtype=True,
                       show_layer_names=True, show_layer_activations=True, show_trainable=True)
    texts = [[cell.text for cell in row] for row in rows]
    assert texts == [["hidden (Dense)"], ["Activation: relu"],
                     ["Input shape: (None, 4)", "Output shape: (None, 8)", "Output dtype: float32", "Trainable"]]
    assert [[c.text for c in row] for row in layer_label(drop)] == [["Dropout"]]  # the defaults: class only
    assert [c.text for c in layer_label(drop, (None, 8), (None, 8), show_trainable=True, show_shapes=True)[1]] \
        == ["Input shape: (None, 8)", "Output shape: (None, 8)"]  # no weights: no trainable mark


def test_plot_model_lays_out_branches_and_merges_top_to_bottom_or_left_to_right(tmp_path):
    model = _functional()
    plot_model(model, to_file=tmp_path / "tb.png", show_shapes=True, dpi=72)  # small: a quick blank check
    plot_model(model, to_file=tmp_path / "lr.png", show_shapes=True, rankdir="LR", splines="curved", dpi=72)
    for name in ("tb.png", "lr.png"):
        assert_not_blank(tmp_path / name)
    tb_width, tb_height = _size(tmp_path / "tb.png")
    lr_width, lr_height = _size(tmp_path / "lr.png")
    assert tb_height / tb_width > 3 * lr_height / lr_width  # tall (six ranks down) against wide


def test_plot_model_refuses_what_keras_refuses(tmp_path):
    with pytest.raises(ValueError, match="has not yet been built"):
        plot_model(Sequential([Dense(2)]), to_file=tmp_path / "m.png")
    model = _sequential()
    with pytest.raises(ValueError, match=r"'\.xyz' is not a format"):
        plot_model(model, to_file=tmp_path / "m.xyz")
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(model, to_file=tmp_path / "m.png", rankdir="XY")
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        plot_model(model, to_file=tmp_path / "m.png", show_colors=True)
    with pytest.raises(ValueError, match="layer_range"):
        plot_model(model, to_file=tmp_path / "m.png", layer_range=["hidden", "head"])
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ draw_graph
def _logistic_loss():
    """The seed's logistic regressor: z = xW + b, a = sigmoid(z), squared error."""
    x = Tensor(np.array([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]]))
    y = Tensor(np.array([[1.0], [0.0], [1.0]]))
    weights = Variable(np.array([[0.3], [-0.2]]), name="W")
    bias = Variable(np.zeros(1), name="b")
    return (((x @ weights + bias).sigmoid() - y) ** 2).mean(), weights


def test_draw_graph_shows_the_forward_pass_then_the_backward_pass(tmp_path):
    loss, weights = _logistic_loss()
    forward = draw_graph(loss, to_file=tmp_path / "forward.png", dpi=72)
    assert isinstance(forward, Figure)
    assert_not_blank(tmp_path / "forward.png")
    texts = _texts(forward)
    assert {"W", "b", "matmul", "add", "sigmoid", "sub", "pow"} <= set(texts)
    assert "shape (3, 2)  float64" in texts and not any(t.startswith("grad") for t in texts)
    loss.backward()
    backward = draw_graph(loss, to_file=tmp_path / "backward.png", dpi=72)
    assert_not_blank(tmp_path / "backward.png")
    texts = _texts(backward)
    assert f"grad [{weights.grad[0, 0]:.4g}, {weights.grad[1, 0]:.4g}]" in texts
    dashed = [p for p in backward.axes[0].patches if p.get_linestyle() == "--"]
    carries_gradient = sum(p.requires_grad for t in tensors_behind(loss) for p in t.parents)
    assert len(dashed) == carries_gradient == 8  # one backward arrow per edge a gradient flows along
    assert _size(tmp_path / "backward.png")[1] > _size(tmp_path / "forward.png")[1] - 5
    no_shapes = _texts(draw_graph(loss, show_shapes=False, show_backward=False))
    assert not any(t.startswith(("shape", "grad")) for t in no_shapes) and "W" in no_shapes


def test_draw_graph_of_a_model_loss_names_weights_by_path(tmp_path):
    model = _sequential()
    loss = ((model(np.ones((5, 4), dtype="float32")) - 1.0) ** 2).mean()
    loss.backward()
    fig = draw_graph(loss, to_file=tmp_path / "model_loss.png", rankdir="TB", dpi=72)
    texts = _texts(fig)
    assert {"hidden/kernel", "hidden/bias", "head/kernel", "dense (activation=relu)", "sigmoid"} <= set(texts)
    width, height = _size(tmp_path / "model_loss.png")
    assert height > width


def test_draw_graph_refuses_a_tensor_without_a_graph(tmp_path):
    with pytest.raises(ValueError, match="no recorded graph"):
        draw_graph(Tensor(np.ones(3)) * 2.0)
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph(np.ones(3))
    loss, _ = _logistic_loss()
    with pytest.raises(ValueError, match="'.bmp8' is not a format"):
        draw_graph(loss, to_file=tmp_path / "g.bmp8")


# ------------------------------------------------------------------ TensorBoard
def _graph_from_events(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir / "train"))
    accumulator.Reload()
    return {node.name: node for node in accumulator.Graph().node}


def _fit(model, inputs, log_dir, **kwargs):
    model.compile(optimizer="adam", loss="mse")
    model.fit(inputs, np.zeros((8, 1), dtype="float32"), epochs=1, verbose=0,
              callbacks=[TensorBoard(log_dir, **kwargs)])


def test_tensorboard_writes_a_graph_grouped_by_layer(tmp_path):
    _fit(_sequential(), np.ones((8, 4), dtype="float32"), tmp_path)
    nodes = _graph_from_events(tmp_path)
    assert nodes["hidden_input"].op == "Placeholder"
    assert [nodes[n].op for n in ("hidden/kernel", "hidden/bias")] == ["VarHandleOp", "VarHandleOp"]
    assert list(nodes["hidden/MatMul"].input) == ["hidden_input", "hidden/kernel"]
    assert list(nodes["hidden/BiasAdd"].input) == ["hidden/MatMul", "hidden/bias"]
    assert list(nodes["hidden/Relu"].input) == ["hidden/BiasAdd"]
    assert list(nodes["drop/Identity"].input) == ["hidden/Relu"]  # inference graph: dropout passes through
    assert list(nodes["head/MatMul"].input) == ["drop/Identity", "head/kernel"]
    assert list(nodes["head/Sigmoid"].input) == ["head/BiasAdd"]
    shape = nodes["hidden/Relu"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [-1, 8]  # the batch axis is free
    assert {name.split("/")[0] for name in nodes} == {"hidden_input", "hidden", "drop", "head"}


def test_tensorboard_graph_of_a_functional_model_follows_its_branches(tmp_path):
    model = _functional()
    _fit(model, [np.ones((8, 4), dtype="float32"), np.ones((8, 3), dtype="float32")], tmp_path)
    nodes = _graph_from_events(tmp_path)
    assert nodes["prices"].op == nodes["macro"].op == "Placeholder"
    assert list(nodes["merge/ConcatV2"].input) == ["price_branch/Tanh", "macro_branch/BiasAdd"]
    assert list(nodes["residual/AddV2"].input) == ["wide/BiasAdd", "merge/ConcatV2"]
    assert list(nodes["out/MatMul"].input) == ["residual/AddV2", "out/kernel"]
    for node in nodes.values():  # every edge comes from a node of the graph
        assert all(name in nodes for name in node.input)


def test_writing_the_graph_leaves_training_as_it_was(tmp_path):
    """The graph comes from an inference pass: no dropout mask drawn, so the same seed trains the same weights."""
    weights = {}
    for write_graph in (True, False):
        set_random_seed(0)
        model = _sequential()
        _fit(model, np.ones((8, 4), dtype="float32"), tmp_path / str(write_graph), write_graph=write_graph)
        weights[write_graph] = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(weights[True], weights[False]))
    with pytest.raises(ValueError, match="no graph"):
        _graph_from_events(tmp_path / "False")


def test_each_operation_names_itself_and_its_settings_when_it_makes_a_tensor():
    """Op names and settings are given when a tensor is made (``Tensor.from_op(..., op=, attributes=)``), not read
    back from the backward function's closure: renaming a local variable changes nothing, and an operation
    must say what it is."""
    import pytest

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert functions.softmax(x, axis=0).op == "softmax" and functions.softmax(x, axis=0).op_attributes == {"axis": 0}
    assert x.sum(axis=1).op_attributes == {"axis": 1, "keepdims": False}
    made = fused.dense(x, Tensor(np.ones((3, 2)), requires_grad=True), None, "relu")
    assert (made.op, made.op_attributes) == ("dense", {"activation": "relu"})
    assert x.op is None and x.op_attributes == {}
    with pytest.raises(TypeError):
        Tensor.from_op(x.data * 2, (x,), lambda g: (2 * g,))  # no op name
