"""``deepfin export RUN_DIR``: a finished run's network with its clipping and scaling in front, as one ONNX graph.

A run of the tuned network leaves ``model.keras`` (the last window's network) and ``preprocessing.json`` (the
clipping quantiles and standardisation fitted with it; see ``deepfin.finance.report.run``). ``run_to_onnx`` reads
both and builds ``features -> clip the return columns to [lower, upper] -> (x - mean) / scale -> network ->
probability``: the graph input ``features`` takes the run's features (computed from raw returns, columns in
``preprocessing.json``'s ``inputs`` order, also kept in the ONNX file's metadata as ``feature_names``), the output
``probability`` is the network's predicted probability of the label, one per row. ``export_run`` writes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from deepfin.export.onnx import GraphBuilder, check_opset, emit, export_dtype, symbolic_graph, write

MODEL_FILE, PREPROCESSING_FILE, DEFAULT_NAME = "model.keras", "preprocessing.json", "model.onnx"


def export_run(run_dir: str | os.PathLike, filepath: str | os.PathLike | None = None,
               opset_version: int | None = None) -> Path:
    """Write the run's pipeline to ``filepath`` (``RUN_DIR/model.onnx`` by default).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The folder of a finished run of the tuned network.
    filepath : str, os.PathLike or None, default None
        The file to write; None gives ``model.onnx`` in ``run_dir``.
    opset_version : int or None, default None
        The ONNX opset; None gives 17.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a folder.
    ValueError
        If the folder is not a finished run, its files do not fit together, or the network cannot be exported.
    """
    proto = run_to_onnx(run_dir, opset_version)
    path = Path(run_dir) / DEFAULT_NAME if filepath is None else Path(filepath)
    write(proto, path)
    return path


def run_to_onnx(run_dir: str | os.PathLike, opset_version: int | None = None):
    """The ``onnx.ModelProto`` of a finished run's pipeline (see the module's docstring).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The folder of a finished run of the tuned network.
    opset_version : int or None, default None
        The ONNX opset; None gives 17.

    Returns
    -------
    onnx.ModelProto
        The graph from ``features`` to ``probability``, not yet checked or written.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a folder.
    ValueError
        If the folder is not a finished run, or ``model.keras`` and ``preprocessing.json`` are not of one run.
    """
    from deepfin.models import load_model

    folder = Path(run_dir)
    steps = read_preprocessing(folder)
    opset = check_opset(opset_version)
    network = load_model(folder / MODEL_FILE)
    inputs, outputs = symbolic_graph(network)
    width = len(steps["inputs"])
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != (width,):
        raise ValueError(f"{folder / MODEL_FILE} takes inputs of shape {[kt.shape for kt in inputs]}, but "
                         f"{folder / PREPROCESSING_FILE} gives {width} features: the two are not of one run.")
    graph = GraphBuilder(export_dtype(network, inputs))
    x = graph.add_input("features", (None, width))
    lower, upper = clip_bounds(steps)
    x = graph.node("Max", [x, graph.constant("clip/lower", lower)], "clip/Max")
    x = graph.node("Min", [x, graph.constant("clip/upper", upper)], "clip/Min")
    x = graph.node("Sub", [x, graph.constant("standardize/mean", steps["standardize"]["mean"])], "standardize/Sub")
    x = graph.node("Div", [x, graph.constant("standardize/scale", steps["standardize"]["scale"])], "standardize/Div")
    (probability,) = emit(graph, network, [x], scope="network/")
    graph.add_output("probability", outputs[0].shape, probability)
    doc = (f"deepfin run {folder.resolve().name}: features ({width}, in the order of metadata 'feature_names') -> "
           "clip -> standardize -> network -> probability")
    return graph.model("deepfin_run", opset, doc, {"feature_names": json.dumps(steps["inputs"]),
                                                   "source": "deepfin export"})


def read_preprocessing(folder: Path) -> dict:
    """``preprocessing.json`` of a finished run, checked; clear errors for a folder that is not one.

    Parameters
    ----------
    folder : pathlib.Path
        The run's folder.

    Returns
    -------
    dict
        The steps: ``inputs``, ``clip`` (``columns``, ``lower``, ``upper``) and ``standardize`` (``mean``,
        ``scale``).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.
    ValueError
        If it lacks ``model.keras`` or ``preprocessing.json``, or the file is not a run's preprocessing or does
        not fit together.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"No run folder at {folder}.")
    for name in (MODEL_FILE, PREPROCESSING_FILE):
        if not (folder / name).is_file():
            raise ValueError(f"{folder} is not a finished deepfin run: it has no {name} (a run of the tuned network "
                             f"writes {MODEL_FILE} and {PREPROCESSING_FILE} when it finishes; a study, "
                             "deepfin run --models, saves no network).")
    try:
        steps = json.loads((folder / PREPROCESSING_FILE).read_text(encoding="utf-8"))
        inputs, clip, scale = steps["inputs"], steps["clip"], steps["standardize"]
        width = len(inputs)
        lengths = (len(clip["lower"]), len(clip["upper"]), len(scale["mean"]), len(scale["scale"]))
        unknown = sorted(set(clip["columns"]) - set(inputs))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{folder / PREPROCESSING_FILE} is not a run's preprocessing: {error!r}") from None
    if lengths != (len(clip["columns"]),) * 2 + (width,) * 2 or unknown:
        raise ValueError(f"{folder / PREPROCESSING_FILE} does not fit together: {width} inputs, clip columns "
                         f"{len(clip['columns'])} (unknown: {unknown}), clip bounds, mean and scale of lengths "
                         f"{list(lengths)}.")
    return steps


def clip_bounds(steps: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per input column its lower and upper clip bound, infinite for the columns that pass through.

    Parameters
    ----------
    steps : dict
        ``read_preprocessing``'s result.

    Returns
    -------
    lower, upper : np.ndarray
        One bound per input column.

    Examples
    --------
    >>> from deepfin.export.pipeline import clip_bounds
    >>> steps = {"inputs": ["r1", "r2", "month"], "clip": {"columns": ["r1", "r2"], "lower": [-0.1, -0.2],
    ...                                                    "upper": [0.1, 0.2]}}
    >>> clip_bounds(steps)
    (array([-0.1, -0.2, -inf]), array([0.1, 0.2, inf]))
    """
    width = len(steps["inputs"])
    lower, upper = np.full(width, -np.inf), np.full(width, np.inf)
    where = [steps["inputs"].index(column) for column in steps["clip"]["columns"]]
    lower[where], upper[where] = steps["clip"]["lower"], steps["clip"]["upper"]
    return lower, upper
