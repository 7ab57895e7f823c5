"""``mg.onnx.export``: the zoo's models run in onnxruntime as in minigrad (float32, ≤ 1e-5 relative) at two batch
sizes other than the example's; names, opsets and fixed batches; the errors, which write nothing."""
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.nn import models

# -- the zoo: each model built and exported once, run at batch sizes 1 and 4 (the example had 2) --


def test_digits_cnn(export_and_run, with_statistics):
    export_and_run(with_statistics(models.digits_cnn()), (1, 8, 8))


def test_lenet5(export_and_run):
    export_and_run(models.lenet5(), (1, 28, 28))


def test_resnet_basic_blocks_with_both_shortcuts(export_and_run, with_statistics):
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        models.BasicBlock(8, 8),                                     # identity shortcut
        models.BasicBlock(8, 16, stride=2),                          # projection: 1×1 conv + batch norm
        models.BasicBlock(16, 24, stride=2, shortcut="zeropad"),     # strided slice, then zero channels (pad)
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 10),
    )
    export_and_run(with_statistics(model), (3, 11, 11))  # odd sizes: the shortcut's slice keeps ⌈11/2⌉ rows


def test_depthwise_separable_stack(export_and_run, with_statistics):
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), models.DepthwiseSeparable(8, 16), models.DepthwiseSeparable(16, 32, stride=2),
        models.DepthwiseSeparable(32, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 5),
    )
    export_and_run(with_statistics(model), (3, 10, 10))


def test_inception_blocks(export_and_run):
    export_and_run(models.googlenet(aux=True), (1, 8, 8))  # eval mode: the auxiliary head is not part of it


def test_resnet_and_the_rest_of_the_zoo(export_and_run, with_statistics):
    export_and_run(with_statistics(models.resnet(shortcut="zeropad")), (1, 8, 8))
    export_and_run(with_statistics(nn.Sequential(models.DenseBlock(3, 4, 2), models.Bottleneck(11, 4, 16, 2))),
                   (3, 8, 8))
    export_and_run(models.vgg(), (1, 8, 8))


# -- what the file holds --


def test_parameters_and_buffers_are_initializers_named_by_their_state_dict_keys(export_and_run, with_statistics):
    model = with_statistics(models.digits_cnn())
    _, proto = export_and_run(model, (1, 8, 8))
    names = {i.name for i in proto.graph.initializer}
    assert set(model.state_dict()) - {"1.num_batches_tracked", "5.num_batches_tracked"} <= names
    import onnx.numpy_helper

    stored = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(stored["1.running_var"], model[1].running_var.data)
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.opset_import[0].version == mg.onnx.DEFAULT_OPSET == 17
    assert proto.producer_name == "minigrad"
    assert not any(n.op_type == "Dropout" for n in proto.graph.node)


def test_dropout_is_dropped(export_and_run, with_statistics):
    model = with_statistics(nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                                          nn.Linear(8, 3)))
    _, proto = export_and_run(model, (6,))
    assert [n.op_type for n in proto.graph.node if n.op_type in ("Dropout", "Gemm", "BatchNormalization")] == \
           ["Gemm", "BatchNormalization", "Gemm"]


def test_the_model_keeps_its_modes_and_its_statistics(runtime, tmp_path, with_statistics):
    model = with_statistics(nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Dropout(0.5)))
    model.train()
    model[2].eval()  # a mix of modes comes back as it was
    before = model.state_dict()
    mg.onnx.export(model, np.ones((3, 6), np.float32), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == [True, True, True, False]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # traced in eval mode: running statistics untouched


def test_a_fixed_batch_names_and_several_inputs_and_outputs(runtime, tmp_path):
    onnx, ort = runtime

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 3), nn.Linear(5, 3)

        def forward(self, x, y):
            h = self.a(x) + self.b(y)
            return h.relu(), nn.functional.softmax(h, dim=1)

    model = TwoHeads()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal((2, 5)).astype(np.float32)
    path = tmp_path / "heads.onnx"
    mg.onnx.export(model, (x, Tensor(y)), path, input_names=["x", "y"], output_names=["features", "probs"],
                   dynamic_batch=False, opset=13)
    proto = onnx.load(str(path))
    assert [d.dim_value for d in proto.graph.input[1].type.tensor_type.shape.dim] == [2, 5]
    assert [o.name for o in proto.graph.output] == ["features", "probs"]
    features, probs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x, "y": y})
    want = model(Tensor(x), Tensor(y))
    np.testing.assert_allclose(features, want[0].data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs, want[1].data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [13, 17, 18, "newest"])
def test_every_opset_from_13_to_the_newest(opset, export_and_run):
    import onnx

    opset = onnx.defs.onnx_opset_version() if opset == "newest" else opset
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(16, 3))

    class Reductions(nn.Module):  # ReduceMean and ReduceMax took their axes as attributes before opset 18
        def __init__(self):
            super().__init__()
            self.body = model

        def forward(self, x):
            h = self.body(x)
            return h - h.mean(dim=1, keepdim=True) + h.max(dim=1, keepdim=True) + h.var(dim=1, keepdim=True)

    _, proto = export_and_run(Reductions(), (2, 6, 6), opset=opset)
    assert proto.opset_import[0].version == opset


# -- errors: each names the gate and the module, and nothing is written --


class Cube(mg.Function):
    formula = "dL/dx = 3x² · dL/dy"

    @staticmethod
    def forward(ctx, x):
        return x**3

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


class WithCube(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return Cube.apply(self.fc(x))


UNSUPPORTED = {
    "tiled": (lambda: nn.Sequential(nn.Conv2d(3, 3, 1), nn.TiledConv2d(3, 4, 3)), (3, 6, 6),
              r"the tiled_conv2d gate \(minigrad's TiledConv2d\), made by module '1' \(TiledConv2d\), has no ONNX "
              r"mapping"),
    "locally connected": (lambda: nn.Sequential(nn.LocallyConnected2d(3, 4, (6, 6), 3)), (3, 6, 6),
                          r"the local_conv2d gate \(minigrad's LocalConv2d\), made by module '0' "
                          r"\(LocallyConnected2d\), has no ONNX mapping"),
    "a loss": (lambda: Lambda(lambda m, x: nn.functional.mse_loss(m.fc(x), np.zeros((2, 6), np.float32))), (50,),
               r"the mse_loss gate \(minigrad's MSELoss\), made by the model's own forward \(Lambda\), has no ONNX "
               r"mapping"),
    "user Function": (WithCube, (4,), r"the Cube gate \(a user mg.Function\), made by the model's own forward "
                                      r"\(WithCube\), has no ONNX mapping.*mg.onnx.SUPPORTED"),
}


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_a_gate_without_a_mapping_is_an_error_naming_it_and_its_module(name, runtime, tmp_path):
    make, shape, message = UNSUPPORTED[name]
    path = tmp_path / "model.onnx"
    with pytest.raises(mg.onnx.UnsupportedGateError, match=message):
        mg.onnx.export(make(), np.zeros((2, *shape), np.float32), path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fc, self.fn = nn.Linear(50, 6), fn

    def forward(self, x):
        return self.fn(self, x)


REFUSED = {
    "a reshape merging the batch": (lambda m, x: m.fc(x).reshape(-1), True,
                                    r"reshape gate, made by the model's own forward \(Lambda\), reshapes \(4, 6\) to "
                                    r"\(24,\), which merges or splits the batch axis 0"),
    "an index into the batch": (lambda m, x: m.fc(x)[1:], True, r"index gate.*indexes the batch axis with \[1:\]"),
    "a constant of the batch's size": (lambda m, x: m.fc(x) * np.ones((4, 1), np.float32), True,
                                       r"mul gate.*combines the batch with a value of 4 along the batch axis"),
    "a mask computed from the input in numpy": (lambda m, x: m.fc(x) * (x.data[:, :6] > 0), False,
                                                r"mul gate.*its input 1 \(a constant\) changes with the input"),
    "an output computed in numpy": (lambda m, x: Tensor(m.fc(x).data.argmax(1)), False,
                                    r"output 0 \('output', shape \(4,\), int64\) does not depend on the input "
                                    r"through the graph: it is a constant.*Tensor operations on the input"),
    "an output computed after detach()": (lambda m, x: m.fc(x).detach() * 2.0, True,
                                          r"output 0 .*does not depend on the input through the graph"),
    "an output computed under no_grad": (lambda m, x: (m.fc(x), _no_grad(lambda: m.fc(x) * 2)), True,
                                         r"output 1 \('output1', shape \(4, 6\), float32\) does not depend"),
    "a branch on the input's values": (lambda m, x: m.fc(x) if (x.data > 0).all() else -m.fc(x), False,
                                       r"computes differently for an input of other values"),
    "a loop over the batch": (lambda m, x: mg.cat([m.fc(x[i:i + 1]) for i in range(x.shape[0])]), True,
                              r"index gate.*indexes the batch axis with \[0:1\]"),
    "batch norm on batch statistics": (lambda m, x: nn.functional.batch_norm(m.fc(x), None, None, training=True),
                                       False, r"batch_norm gate.*normalises with the batch's own statistics"),
    "dropout forced on": (lambda m, x: nn.functional.dropout(m.fc(x), 0.5, training=True), False,
                          r"dropout gate.*its mask is random on every call"),
    "dropout2d forced on": (lambda m, x: nn.functional.dropout2d(m.fc(x).reshape(-1, 2, 3, 1), 0.5, training=True),
                            False, r"dropout2d gate.*its mask is random on every call.*use nn.Dropout2d"),
}


def _no_grad(fn):
    with mg.no_grad():
        return fn()


@pytest.mark.parametrize("name", REFUSED)
def test_what_only_fits_the_traced_input_is_refused(name, runtime, tmp_path):
    fn, dynamic, message = REFUSED[name]
    x = np.abs(np.random.default_rng(0).standard_normal((4, 50))).astype(np.float32) + 0.1  # all positive
    path = tmp_path / "model.onnx"
    with pytest.raises(mg.onnx.ExportError, match=message):
        mg.onnx.export(Lambda(fn), x, path, dynamic_batch=dynamic)
    assert not path.exists()
    if dynamic and "depend" not in message:  # fine for the traced batch size alone
        mg.onnx.export(Lambda(fn), x, path, dynamic_batch=False)


class Head(nn.Module):
    """The audit's heads: an output computed with argmax or a comparison (once written as a constant)."""

    def __init__(self, fn):
        super().__init__()
        self.fc, self.fn = nn.Linear(4, 3), fn

    def forward(self, x):
        return self.fn(self.fc(x), x)


TRACED = {  # name: (forward of Head on the logits and the input, the ONNX ops that must appear)
    "argmax": (lambda h, x: h.argmax(1), {"ArgMax"}),
    "argmin with keepdim, as a float": (lambda h, x: h.argmin(dim=-1, keepdim=True) * 1.0, {"ArgMin", "Cast"}),
    "mg.argmax": (lambda h, x: mg.argmax(h, 1), {"ArgMax"}),
    "a comparison times 1.0": (lambda h, x: (h > 0) * 1.0, {"Greater", "Cast"}),
    "a mask times the logits": (lambda h, x: h * (h <= 0.1), {"LessOrEqual"}),
    "==, != and >= against tensors": (lambda h, x: (h == h.max(1, keepdim=True)) * 1.0 + (h != h[:, :1]) * 2.0
                                      + (h >= x[:, :3]) * 4.0, {"Equal", "Not", "GreaterOrEqual"}),
    "< against a number, summed": (lambda h, x: (h < 0.2).sum(1), {"Less", "ReduceSum"}),
    "where on a computed mask": (lambda h, x: mg.where(h > 0, h, h * 0.1), {"Where", "Greater"}),
    "argmax plus the logits": (lambda h, x: h[:, :1] + h.argmax(1, keepdim=True), {"ArgMax"}),
    "integer // and % of argmax": (lambda h, x: ((h.argmax(1) - 2) // 2) * 10 + (h.argmax(1) - 3) % 4, {"Mod"}),
}


@pytest.mark.parametrize("dynamic", [True, False])
@pytest.mark.parametrize("name", TRACED)
def test_comparisons_and_argmax_are_traced_not_frozen(name, dynamic, runtime, tmp_path):
    onnx, ort = runtime
    fn, ops = TRACED[name]
    model, path = Head(fn), tmp_path / "head.onnx"
    rng = np.random.default_rng(0)
    mg.onnx.export(model, rng.standard_normal((2, 4)).astype(np.float32), path, dynamic_batch=dynamic)
    assert ops <= {n.op_type for n in onnx.load(str(path)).graph.node}
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in ((5, 1) if dynamic else (2,)):
        x = rng.standard_normal((n, 4)).astype(np.float32)
        (got,) = session.run(None, {"input": x})
        want = model(Tensor(x)).data
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_comparisons_outside_an_export_stay_outside_the_graph():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    for out in (x > 0, x.argmax(), mg.argmin(x, 0), mg.where(x > 0, x, 0.0)):
        assert out._gate is None or out._gate.name == "where"
    assert not (x > 0).requires_grad and (x > 0).dtype == bool


def test_argmax_over_the_batch_needs_a_fixed_batch(runtime, tmp_path):
    with pytest.raises(mg.onnx.ExportError, match=r"argmax along the batch axis 0; export with dynamic_batch=False"):
        mg.onnx.export(Head(lambda h, x: h.argmax(0)), np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    with pytest.raises(mg.onnx.ExportError, match=r"argmax of the whole tensor \(2, 3\), batch included"):
        mg.onnx.export(Head(lambda h, x: h.argmax()), np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_argument_errors(runtime, tmp_path):
    model, x, path = models.digits_cnn(), np.zeros((2, 1, 8, 8), np.float32), tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"opset must be an int from 13 to \d+ .*got 12"):
        mg.onnx.export(model, x, path, opset=12)
    with pytest.raises(ValueError, match=r"input_names must be 1 distinct non-empty strings .*got \['a', 'b'\]"):
        mg.onnx.export(model, x, path, input_names=["a", "b"])
    with pytest.raises(mg.onnx.ExportError, match="the name 'input' is used twice"):
        mg.onnx.export(model, x, path, output_names=["input"])
    with pytest.raises(TypeError, match="expected a minigrad nn.Module, got function"):
        mg.onnx.export(lambda t: t, x, path)
    with pytest.raises(TypeError, match="example input 0 has dtype int64"):
        mg.onnx.export(model, np.zeros((2, 1, 8, 8), np.int64), path)
    with pytest.raises(ValueError, match=r"with dynamic_batch=True every input needs the batch as axis 0"):
        mg.onnx.export(model, np.float32(1.0), path)
    with pytest.raises(mg.onnx.ExportError, match="the model returned list as output 1"):
        mg.onnx.export(Lambda(lambda m, x: (m.fc(x), [1])), np.zeros((2, 50), np.float32), path)
    assert list(tmp_path.iterdir()) == []


def test_without_the_onnx_package_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"onnx.export needs the onnx package, which is not installed: pip install "
                                          r"onnx \(or pip install -e \"\.\[onnx\]\"\)"):
        mg.onnx.export(models.digits_cnn(), np.zeros((1, 1, 8, 8), np.float32), tmp_path / "m.onnx")


def test_importing_minigrad_does_not_import_onnx():
    import subprocess

    out = subprocess.run([sys.executable, "-c", "import sys, minigrad as mg; mg.onnx.export; "
                                                "print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"
