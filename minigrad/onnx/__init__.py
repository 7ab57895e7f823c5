"""``minigrad.onnx``: write a trained model as an ONNX file, so it runs in onnxruntime and opens in netron.

    import minigrad as mg
    mg.onnx.export(model, x[:2], "model.onnx")        # dynamic batch: the file runs on any batch size

Needs the ``onnx`` package (``pip install onnx``, or the ``[onnx]`` extra); importing this package does
not import it. ``export`` is in ``export.py``; the gates' ONNX forms in ``gates.py``, ``shapes.py`` and ``traced.py`` (the
comparisons, argmax and pooling indices a trace records);
``graph.py`` holds the graph being built and where the batch dimension is; ``trace.py`` the traced pass.
"""
from .export import DEFAULT_OPSET, MIN_OPSET, SUPPORTED, export
from .graph import ExportError, UnsupportedGateError

__all__ = ["export", "ExportError", "UnsupportedGateError", "SUPPORTED", "DEFAULT_OPSET", "MIN_OPSET"]
