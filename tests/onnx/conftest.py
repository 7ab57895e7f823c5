"""Exporting a model once and running the file in onnxruntime at other batch sizes, for the ONNX tests."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn

TOLERANCE = 1e-5
"""The largest error allowed, relative to the largest output: float32 throughout."""


@pytest.fixture
def runtime():
    """(onnx, onnxruntime); skips -- and in CI fails -- when either is missing."""
    return pytest.importorskip("onnx"), pytest.importorskip("onnxruntime")


def _with_statistics(model, seed=1):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.running_mean is not None:
            c = m.num_features
            m.running_mean.data = (rng.standard_normal(c) * 0.3).astype(np.float32)
            m.running_var.data = rng.uniform(0.5, 2.0, c).astype(np.float32)
            if m.weight is not None:
                m.weight.data = rng.uniform(0.5, 1.5, c).astype(np.float32)
            if m.bias is not None:
                m.bias.data = (rng.standard_normal(c) * 0.1).astype(np.float32)
    return model


@pytest.fixture
def with_statistics():
    """``with_statistics(model)``: the model, its batch norms given running statistics and affine parameters that
    are not the identity (as after training), so that exporting them wrongly shows."""
    return _with_statistics


@pytest.fixture
def export_and_run(runtime, tmp_path):
    """``check(model, shape, batches=(1, 4), example=2, **export_options)``: export ``model`` once on an example
    batch of ``example`` inputs of ``shape``, check the file with onnx.checker, run it in onnxruntime on new
    inputs of each batch size and compare with minigrad's eval-mode outputs; returns the largest relative error
    and the loaded ONNX model."""
    onnx, ort = runtime

    def check(model, shape, batches=(1, 4), example=2, **options):
        rng = np.random.default_rng(0)
        path = tmp_path / "model.onnx"
        assert mg.onnx.export(model, rng.standard_normal((example, *shape)).astype(np.float32), path,
                              **options) == path
        onnx.checker.check_model(str(path), full_check=True)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        worst = 0.0
        model.eval()
        for n in batches:
            x = rng.standard_normal((n, *shape)).astype(np.float32)
            with mg.no_grad():
                expected = model(Tensor(x))
            expected = expected if isinstance(expected, tuple) else (expected,)
            got = session.run(None, {name: x})
            assert len(got) == len(expected)
            for g, e in zip(got, expected):
                assert g.shape == e.shape and g.dtype == np.float32
                scale = max(float(np.abs(e.data).max()), 1e-30)
                worst = max(worst, float(np.abs(g - e.data).max()) / scale)
        assert worst <= TOLERANCE, f"largest relative error {worst:.2e}"
        return worst, onnx.load(str(path))

    return check


@pytest.fixture(autouse=True)
def _seeded():
    """The same initial weights whatever ran before (the weights come from minigrad's generator; the tests pass
    for other seeds too, 30 were tried)."""
    mg.manual_seed(0)
