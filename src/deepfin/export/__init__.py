"""Models out of Python: ``model.export(path, format="onnx")`` and ``deepfin export RUN_DIR``.

``export_model`` writes a Sequential or functional model as one ONNX file (``onnx.py``); ``export_run``
writes a finished ``deepfin run``'s network with its clipping and scaling in front (``pipeline.py``). Both need
the optional ``onnx`` package (``pip install deepfin[onnx]``), imported only when they run.
"""

from deepfin.export.onnx import DEFAULT_OPSET, export_model, to_onnx
from deepfin.export.pipeline import export_run, run_to_onnx

__all__ = ["DEFAULT_OPSET", "export_model", "export_run", "run_to_onnx", "to_onnx"]
