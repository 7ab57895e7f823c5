"""Module bookkeeping: registration, names, traversal, modes, state dicts, hooks, paths, repr."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(np.ones(4, dtype=np.float32))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.register_buffer("scratch", np.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.bn(self.fc(x)).relu() * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Block(), nn.ReLU())
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.body(x))


def test_named_parameters_have_pytorch_names():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "body.0.scale", "body.0.fc.weight", "body.0.fc.bias", "body.0.bn.weight", "body.0.bn.bias",
        "head.weight", "head.bias",
    ]


def test_state_dict_keys_values_and_non_persistent_buffers():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == [
        "body.0.scale", "body.0.steps", "body.0.fc.weight", "body.0.fc.bias", "body.0.bn.weight", "body.0.bn.bias",
        "body.0.bn.running_mean", "body.0.bn.running_var", "body.0.bn.num_batches_tracked", "head.weight", "head.bias",
    ]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["head.weight"].shape == (2, 4)
    sd["head.weight"][...] = 99.0  # a copy: the model is untouched
    assert not (net.head.weight.data == 99.0).any()


def test_load_state_dict_round_trip_keeps_dtype():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    b.load_state_dict({k: v.astype(np.float64) for k, v in a.state_dict().items()})
    assert b.head.weight.dtype == np.float32


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys():
    net = Net()
    sd = net.state_dict()
    del sd["head.bias"]
    sd["head.extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing key\(s\): head.bias; unexpected key\(s\): head.extra"):
        net.load_state_dict(sd)
    missing, unexpected = net.load_state_dict(sd, strict=False)
    assert missing == ["head.bias"] and unexpected == ["head.extra"]
    sd = net.state_dict()
    sd["head.weight"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"head.weight has shape \(4, 2\) in the state dict but \(2, 4\) in the model"):
        net.load_state_dict(sd)


def test_unknown_attribute_is_an_attribute_error_never_none():
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'haed'"):
        Net().haed


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_assigning_a_tensor_to_a_parameter_slot_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="must be nn.Parameter"):
        lin.weight = Tensor(np.zeros((2, 2)))
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_traversal_modules_children_and_shared_parameters():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.0.fc", "body.0.bn", "body.1", "head"]
    assert [type(c).__name__ for c in net.children()] == ["Sequential", "Linear"]
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.parameters())) == 2


def test_train_eval_and_zero_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(Tensor(np.ones((5, 3)))).sum().backward()
    assert net.head.weight.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_freezing_a_submodule_excludes_it_from_gradients():
    net = Net()
    net.body.requires_grad_(False)
    net(Tensor(np.ones((5, 3)))).sum().backward()
    assert all(p.grad is None for p in net.body.parameters())
    assert net.head.weight.grad is not None


def test_double_and_float_convert_parameters_and_buffers():
    net = Net().double()
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float64)}
    assert net.body[0].bn.running_mean.dtype == np.float64
    assert net.body[0].steps.dtype == np.int64  # integer buffers stay integer
    net.float()
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float32)}


def test_paths_label_parameters_and_group_the_gates_made_in_forward():
    net = Net()
    assert net.body[0].fc.weight.label == "body.0.fc.weight"
    y = net(Tensor(np.ones((5, 3))))
    assert y._module is net.head and y._module._path == "head"
    made_in = set()
    stack, seen = [y], set()
    while stack:
        node = stack.pop()
        if node._gate is not None:
            made_in.add(node._module._path)
        for p in node._inputs:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    assert {"head", "body.0.fc", "body.0.bn", "body.0", "body.1"} <= made_in


def test_forward_hooks_see_the_output_and_can_be_removed():
    net = Net()
    seen = []
    handle = net.head.register_forward_hook(lambda m, inputs, out: seen.append(out.shape))
    net(Tensor(np.ones((5, 3))))
    handle.remove()
    net(Tensor(np.ones((5, 3))))
    assert seen == [(5, 2)]


def test_sequential_indexing_len_and_slicing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq[1:]] == ["ReLU", "Linear"]
    with pytest.raises(IndexError, match="Sequential: index 5 is out of range for 3 modules"):
        seq[5]
    ml = nn.ModuleList([nn.Linear(1, 1)]).append(nn.Linear(1, 1))
    assert len(ml) == 2 and [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_repr_like_pytorch():
    seq = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Flatten(), nn.Linear(24, 10, bias=False))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): Flatten(start_dim=1, end_dim=-1)\n"
        "  (3): Linear(in_features=24, out_features=10, bias=False)\n"
        ")"
    )


def test_summary_counts_parameters_like_the_lectures(capsys):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    rows = nn.summary(model, (2, 3, 4, 4))
    assert [r["name"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[0]["params"] == 3 * 8 * 3 * 3 + 8  # n_l·n_{l+1}·k1·k2 + n_{l+1}
    assert rows[0]["output_shape"] == (2, 8, 4, 4)
    assert rows[3]["params"] == 128 * 10 + 10
    out = capsys.readouterr().out
    assert "total parameters: 1,514" in out and "MiB" in out
    assert all(m.training for m in model.modules())  # summary restored the modes


def test_manual_seed_makes_initialisation_repeat():
    mg.manual_seed(0)
    a = nn.Linear(4, 4).weight.data.copy()
    mg.manual_seed(0)
    assert np.array_equal(a, nn.Linear(4, 4).weight.data)


def test_sequential_item_assignment_keeps_the_order_and_the_key():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    seq[0] = nn.Linear(2, 3, bias=False)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "2.weight", "2.bias"]
    assert seq[0].weight.label == "0.weight"


def test_load_state_dict_refuses_arrays_that_hold_no_numbers_naming_the_key():
    net = nn.Sequential(nn.Linear(2, 3))
    state = net.state_dict()
    state["0.weight"] = np.full((3, 2), "1.0")
    with pytest.raises(TypeError, match=r"0\.weight has dtype <U3 in the state dict; it must hold numbers "
                                        r"\(the model's 0\.weight is float32\)"):
        net.load_state_dict(state)
    state["0.weight"] = np.ones((3, 2), dtype=complex)
    with pytest.raises(TypeError, match=r"0\.weight has dtype complex128"):
        net.load_state_dict(state)
    with pytest.raises(TypeError, match="expected a dict of arrays by key"):
        net.load_state_dict([np.ones((3, 2)), np.ones(3)])


def test_load_state_dict_of_a_whole_checkpoint_says_to_pass_its_model_part():
    net = nn.Sequential(nn.Linear(2, 3))
    ckpt = {"model": net.state_dict(), "optimizer": {"state": {}, "param_groups": []}, "epoch": 3}
    with pytest.raises(KeyError, match=r'whole checkpoint; pass the model state inside it: '
                                       r'load_state_dict\(ckpt\["model"\]\)'):
        net.load_state_dict(ckpt)
    net.load_state_dict(ckpt["model"])


LAYERS = {  # every layer and model of nn and the zoo, as built for an input of the shape given
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), (1, 2, 4, 4)),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d(1), (1, 2, 4, 4)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (1, 2, 4, 4)), "MaxPool2d": (lambda: nn.MaxPool2d(2), (1, 2, 4, 4)),
    "MaxUnpool2d": (lambda: nn.MaxUnpool2d(2), (1, 2, 2, 2)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (2, 3)), "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (2, 2, 4, 4)),
    "GroupNorm": (lambda: nn.GroupNorm(1, 2), (1, 2, 4, 4)),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(2), (1, 2, 4, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(3), (2, 3)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3), (1, 2, 8)), "Conv2d": (lambda: nn.Conv2d(2, 3, 3), (1, 2, 4, 4)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4)),
    "LocallyConnected2d": (lambda: nn.LocallyConnected2d(2, 3, 4, 3), (1, 2, 4, 4)),
    "TiledConv2d": (lambda: nn.TiledConv2d(2, 3, 3), (1, 2, 4, 4)),
    "TransformInvariantConv2d": (lambda: nn.TransformInvariantConv2d(2, 3, 3), (1, 2, 4, 4)),
    "Linear": (lambda: nn.Linear(3, 2), (2, 3)), "Flatten": (lambda: nn.Flatten(), (2, 3, 4)),
    "Identity": (lambda: nn.Identity(), (2, 3)), "Upsample": (lambda: nn.Upsample(scale_factor=2), (1, 2, 4, 4)),
    "Dropout": (lambda: nn.Dropout(), (2, 3)), "Dropout2d": (lambda: nn.Dropout2d(), (1, 2, 4, 4)),
    **{name: (lambda name=name: getattr(nn, name)(), (2, 3)) for name in (
        "ReLU", "ReLU6", "Sigmoid", "Tanh", "LeakyReLU", "ELU", "GELU", "SiLU", "Mish", "Softplus", "Hardtanh")},
    "Softmax": (lambda: nn.Softmax(1), (2, 3)), "LogSoftmax": (lambda: nn.LogSoftmax(1), (2, 3)),
    **{name: (lambda name=name: getattr(nn, name)(), (2, 3)) for name in (
        "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "BCEWithLogitsLoss", "BCELoss")},
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(), (2, 3)), "NLLLoss": (lambda: nn.NLLLoss(), (2, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 2)), (2, 3)),
    "BasicBlock": (lambda: mg.models.BasicBlock(2, 2), (1, 2, 4, 4)),
    "Bottleneck": (lambda: mg.models.Bottleneck(2, 2, 4), (1, 2, 4, 4)),
    "DenseBlock": (lambda: mg.models.DenseBlock(2, 2, 1), (1, 2, 4, 4)),
    "DepthwiseSeparable": (lambda: mg.models.DepthwiseSeparable(2, 3), (1, 2, 4, 4)),
    "InceptionBlock": (lambda: mg.models.InceptionBlock(2, 1, 1, 1, 1, 1, 1), (1, 2, 4, 4)),
    "LeNet5": (lambda: mg.models.lenet5(), (1, 1, 28, 28)), "ResNet": (lambda: mg.models.resnet(), (1, 1, 8, 8)),
    "GoogLeNet": (lambda: mg.models.googlenet(), (1, 1, 8, 8)),
}


def test_the_layer_table_covers_every_layer_and_model():
    import inspect

    defined = {name for source in (nn, mg.models) for name, cls in vars(source).items()
               if inspect.isclass(cls) and issubclass(cls, nn.Module) and not name.startswith("_")}
    assert defined - {"Module", "ModuleList"} == set(LAYERS)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("given", ["array", "list"])
def test_every_layer_refuses_an_array_or_a_list_naming_itself_and_says_to_wrap_it(name, given):
    """Linear, BatchNorm1d and ReLU took an array or a list, Conv2d and MaxPool2d refused it, nn.Flatten failed in
    numpy ("flatten() takes from 0 to 1 positional arguments"): one rule now, PyTorch's."""
    build, shape = LAYERS[name]
    layer = build()
    x = np.zeros(shape, np.float32)
    named = "Linear" if name == "Sequential" else "Conv2d" if name == "LeNet5" else name  # a container: its first layer
    kind = "numpy.ndarray" if given == "array" else "list"
    with pytest.raises(TypeError, match=rf"^{named}: the input must be a minigrad Tensor, not {kind}.*mg\.tensor\(x\)"):
        layer(x if given == "array" else x.tolist())
    if name in ("MaxUnpool2d", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
                "KLDivLoss", "BCEWithLogitsLoss", "BCELoss"):
        return  # they take a second argument
    layer.eval()
    layer(Tensor(x))  # a Tensor is what it takes


def test_a_module_of_yours_may_take_what_it_likes():
    class Scaled(nn.Module):
        def forward(self, x):
            return Tensor(np.asarray(x, np.float32)) * 2

    assert Scaled()(np.ones(2)).tolist() == [2.0, 2.0]
    assert nn.Sequential(Scaled(), nn.ReLU())([1.0, -1.0]).tolist() == [2.0, 0.0]
