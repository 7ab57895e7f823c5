"""Layers: PyTorch's shapes, defaults, initialisation and state_dict keys; outputs with PyTorch's weights."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn

rng = np.random.default_rng(0)


def make_pair(torch):
    """The same small CNN in both frameworks (every layer type that holds state)."""
    ours = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2, bias=False), nn.LeakyReLU(0.1),
        nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
        nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 5), nn.BatchNorm1d(5), nn.Sigmoid(),
        nn.Dropout(0.3), nn.Linear(5, 3),
    )
    tn = torch.nn
    theirs = tn.Sequential(
        tn.Conv2d(3, 4, 3, padding=1), tn.BatchNorm2d(4), tn.ReLU(), tn.MaxPool2d(2),
        tn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2, bias=False), tn.LeakyReLU(0.1),
        tn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), tn.Tanh(),
        tn.AvgPool2d(2), tn.AdaptiveAvgPool2d(1), tn.Flatten(), tn.Linear(2, 5), tn.BatchNorm1d(5), tn.Sigmoid(),
        tn.Dropout(0.3), tn.Linear(5, 3),
    )
    return ours, theirs


def test_state_dict_keys_and_shapes_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(torch)
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        assert mine[key].shape == tuple(ref[key].shape), key
        assert mine[key].dtype == {torch.float32: np.float32, torch.int64: np.int64}[ref[key].dtype], key


def test_weights_move_between_the_two_with_a_dict_comprehension(torch_on_one_thread):
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(torch)
    theirs = theirs.double()
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((6, 3, 8, 8))
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        if mode == "train":  # dropout draws differ between frameworks: compare everything before it
            a, b = ours[:14](Tensor(x)), theirs[:14](torch.tensor(x))
        else:
            a, b = ours(Tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-12)
    # after one training forward both updated the running statistics the same way
    np.testing.assert_allclose(ours[1].running_var.data, theirs[1].running_var.numpy(), rtol=1e-9)
    assert ours[1].num_batches_tracked.item() == theirs[1].num_batches_tracked.item() == 1
    back = {k: torch.tensor(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(back)  # and back again


def test_gradients_match_pytorch_through_a_whole_model(torch_on_one_thread):
    torch = pytest.importorskip("torch")
    ours, theirs = make_pair(torch)
    theirs = theirs.double()
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours, theirs = ours[:14], theirs[:14]
    x, y = rng.standard_normal((6, 3, 8, 8)), rng.integers(0, 5, 6)
    mg.nn.functional.cross_entropy(ours(Tensor(x)), y).backward()
    torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_batchnorm_with_momentum_none_is_a_cumulative_average():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(3, momentum=None).double(), torch.nn.BatchNorm1d(3, momentum=None).double()
    for _ in range(3):
        x = rng.standard_normal((8, 3))
        ours(Tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)


def test_initialisation_follows_pytorch_bounds():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert lin.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # uniform: std = bound/√3
    conv = nn.Conv2d(8, 16, 3, groups=2)
    assert np.abs(conv.weight.data).max() <= 1 / math.sqrt(4 * 9)
    convt = nn.ConvTranspose2d(8, 6, 3, groups=2)
    assert convt.weight.shape == (8, 3, 3, 3) and np.abs(convt.weight.data).max() <= 1 / math.sqrt(3 * 9)
    bn = nn.BatchNorm2d(5)
    assert bn.weight.data.tolist() == [1.0] * 5 and bn.bias.data.tolist() == [0.0] * 5
    assert bn.running_var.data.tolist() == [1.0] * 5 and bn.num_batches_tracked.item() == 0


def test_init_functions():
    mg.manual_seed(1)
    w = nn.Parameter(np.zeros((500, 500), dtype=np.float32))
    nn.init.xavier_uniform_(w)  # the lectures' case: fan_in = fan_out = N gives U(−√(3/N), √(3/N))
    assert np.abs(w.data).max() <= math.sqrt(3 / 500) and w.data.std() == pytest.approx(math.sqrt(1 / 500), rel=0.02)
    nn.init.xavier_normal_(w, gain=2.0)
    assert w.data.std() == pytest.approx(2 * math.sqrt(2 / 1000), rel=0.02)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert np.abs(w.data).max() <= math.sqrt(6 / 500)
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.ones_(w)
    assert (w.data == 1).all() and w._version > 0
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))


def test_layer_errors_are_clear():
    with pytest.raises(ValueError, match="must both be divisible by groups 3"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected a 4-D input, got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\]"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="Softmax: give the dimension"):
        nn.Softmax()(Tensor(np.zeros((2, 3))))


def test_dropout_is_identity_in_eval_and_losses_as_modules():
    drop = nn.Dropout(0.5)
    x = Tensor(np.ones((4, 100)))
    assert (drop.eval()(x).data == 1).all()
    kept = drop.train()(x).data
    assert set(np.unique(kept)) <= {0.0, 2.0}
    logits, y = Tensor(rng.standard_normal((4, 3))), np.array([0, 1, 2, 1])
    assert nn.CrossEntropyLoss()(logits, y).item() == pytest.approx(mg.nn.functional.cross_entropy(logits, y).item())
    assert nn.MSELoss(reduction="sum")(logits, Tensor(np.zeros((4, 3)))).item() == pytest.approx((logits.data**2).sum())


LAYERS = ["Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "MaxPool2d", "AvgPool2d",
          "AdaptiveAvgPool2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "Identity",
          "MSELoss", "CrossEntropyLoss", "NLLLoss",
          "Conv1d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "GELU", "ELU", "SiLU", "Softplus", "Hardtanh", "ReLU6",
          "Mish", "LogSoftmax", "AdaptiveMaxPool2d", "MaxUnpool2d", "Upsample", "Dropout2d", "BCEWithLogitsLoss",
          "BCELoss", "L1Loss", "SmoothL1Loss", "HuberLoss"]


@pytest.mark.parametrize("name", LAYERS)
def test_constructor_arguments_are_pytorchs(name):
    """Same names, order and defaults: a model written for PyTorch builds unchanged (device and dtype are
    PyTorch's alone, so is ConvTranspose2d's padding_mode, which takes only "zeros"; deprecated arguments such
    as size_average and Hardtanh's min_value are left out)."""
    torch = pytest.importorskip("torch")
    import inspect

    skip = {"self", "device", "dtype", "size_average", "reduce", "min_value", "max_value", "args", "kwargs"}
    if name == "ConvTranspose2d":
        skip.add("padding_mode")

    def arguments(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.default, p.kind == p.KEYWORD_ONLY) for p in params if p.name not in skip]

    theirs, ours = arguments(getattr(torch.nn, name)), arguments(getattr(nn, name))
    assert ours[: len(theirs)] == theirs


def test_weighted_losses_keep_weight_as_a_buffer_as_pytorch(torch_on_one_thread):
    torch = pytest.importorskip("torch")
    w = np.array([0.5, 1.0, 2.0])
    x, y = rng.standard_normal((6, 3)), np.array([0, 1, 2, 2, 0, 1])
    pairs = [(nn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1),
              torch.nn.CrossEntropyLoss(torch.tensor(w), ignore_index=1, label_smoothing=0.1)),
             (nn.NLLLoss(w, reduction="sum"), torch.nn.NLLLoss(torch.tensor(w), reduction="sum")),
             (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss())]
    for ours, theirs in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict())  # ["weight"], or [] without weights
        assert [n for n, _ in ours.named_parameters()] == [] and repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(Tensor(x), y).item(), theirs(torch.tensor(x), torch.tensor(y)).item(), rtol=1e-12)
    model = nn.Sequential(nn.Linear(3, 3), nn.CrossEntropyLoss(weight=w))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight"]
    np.testing.assert_array_equal(model.state_dict()["1.weight"], w)


def test_dropout2d_drops_whole_channels_in_train_and_is_the_identity_in_eval():
    mg.manual_seed(0)
    drop, x = nn.Dropout2d(0.25), Tensor(np.ones((8, 50, 3, 4)), requires_grad=True)
    assert drop.eval()(x) is x
    y = drop.train()(x)
    per_channel = y.data.reshape(8, 50, 12)
    assert (per_channel == per_channel[:, :, :1]).all()  # one value per channel of each sample
    assert set(np.unique(per_channel)) == {0.0, 1 / 0.75}  # dropped, or kept and scaled by 1/(1 − p)
    assert 0.15 < (per_channel[:, :, 0] == 0).mean() < 0.35
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, y.data)  # the gradient passes where the channel was kept, scaled
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):  # (N, C, L), as PyTorch 2.13 reads it
        assert drop(Tensor(np.ones((2, 3, 5)))).shape == (2, 3, 5)
    assert (nn.Dropout2d(1.0)(x).data == 0).all() and nn.Dropout2d(0.0)(x) is x


def test_dropout2d_arguments_and_repr_are_pytorchs():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout2d(0.2)) == repr(torch.nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"
    assert isinstance(nn.Dropout2d(), nn.Dropout) and list(nn.Dropout2d().state_dict()) == []
    with pytest.raises(ValueError, match=r"^Dropout2d: p must be in \[0, 1\], got 1.5$"):
        nn.Dropout2d(1.5)
    with pytest.raises(TypeError, match=r"^Dropout2d: p must be a number in \[0, 1\] \(the probability of dropping\), "
                                        r"got '0.5'$"):
        nn.Dropout2d("0.5")
    with pytest.raises(ValueError, match=r"dropout2d: expected an input of shape \(N, C, H, W\) \(or \(N, C, L\)\)"):
        nn.Dropout2d()(Tensor(np.ones((4, 3, 2, 1, 1))))


def test_pooling_layers_take_pytorchs_positional_order():
    x = Tensor(np.arange(10.0).reshape(1, 1, 2, 5))
    # AvgPool2d(kernel, stride, padding, ceil_mode, count_include_pad): True in 4th place is ceil_mode
    assert nn.AvgPool2d(2, 2, 0, True)(x).shape == (1, 1, 1, 3)
    y, indices = nn.MaxPool2d(2, 2, 0, 1, True, True)(x)  # return_indices, ceil_mode
    assert y.data.tolist() == [[[[6.0, 8.0, 9.0]]]] and indices.data.tolist() == [[[[6, 8, 9]]]]
    with pytest.raises(ValueError, match="max_pool2d: stride must be at least 1"):
        nn.MaxPool2d(2, stride=0)(x)


def test_reprs_match_pytorchs():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)), (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
                         (nn.Dropout(0.2), torch.nn.Dropout(0.2)), (nn.BatchNorm2d(8), torch.nn.BatchNorm2d(8)),
                         (nn.BatchNorm1d(4, bias=False), torch.nn.BatchNorm1d(4, bias=False)),
                         (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.Softmax(1), torch.nn.Softmax(1)),
                         (nn.LeakyReLU(0.1, inplace=True), torch.nn.LeakyReLU(0.1, inplace=True)),
                         (nn.ReLU(), torch.nn.ReLU()), (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True))]:
        assert repr(ours) == repr(theirs)


def test_batchnorm_without_bias_has_only_the_scale():
    bn = nn.BatchNorm2d(3, bias=False)
    assert [name for name, _ in bn.named_parameters()] == ["weight"] and bn.bias is None
    x = mg.randn(4, 3, 2, 2)
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-6)  # γ = 1 and no β: normalised only


SIZED = [  # (constructor with the size under test as `n`, the argument's name)
    (lambda n: nn.Linear(n, 4), "Linear: in_features"),
    (lambda n: nn.Linear(3, n), "Linear: out_features"),
    (lambda n: nn.Conv2d(n, 4, 3), "Conv2d: in_channels"),
    (lambda n: nn.Conv2d(2, n, 3), "Conv2d: out_channels"),
    (lambda n: nn.Conv2d(2, 4, 3, groups=n), "Conv2d: groups"),
    (lambda n: nn.ConvTranspose2d(n, 4, 3), "ConvTranspose2d: in_channels"),
    (lambda n: nn.ConvTranspose2d(2, 4, 3, groups=n), "ConvTranspose2d: groups"),
    (lambda n: nn.BatchNorm1d(n), "BatchNorm1d: num_features"),
    (lambda n: nn.BatchNorm2d(n), "BatchNorm2d: num_features"),
    (lambda n: nn.AdaptiveAvgPool2d(n), "AdaptiveAvgPool2d: output_size"),
    (lambda n: nn.AdaptiveAvgPool2d((None, n)), "AdaptiveAvgPool2d: output_size"),
]


@pytest.mark.parametrize("make, name", SIZED)
@pytest.mark.parametrize("bad", [3.5, "3", True, [3], np.array([3]), np.float64(3.0)])
def test_layer_sizes_are_integers_by_one_rule_for_every_layer(make, name, bad):
    """nn.Linear(3.5, 4) used to build 3 inputs and nn.Linear('3', 4) was accepted; a list or an array gave
    another message in each layer. Now every layer says the same, with a TypeError as PyTorch."""
    with pytest.raises(TypeError, match=f"^{name} must be an int, got "):
        make(bad)
    assert make(np.int64(2)) is not None and make(np.array(2)) is not None  # numpy integers pass, as in PyTorch


@pytest.mark.parametrize("make, name", SIZED)
@pytest.mark.parametrize("bad", [0, -1])
def test_zero_or_negative_layer_sizes_are_clear_errors(make, name, bad):
    with pytest.raises(ValueError, match=f"^{name} must be at least 1, got {bad}$"):
        make(bad)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(1, 2, 0), r"Conv2d: kernel_size must be at least 1, got \(0, 0\)"),  # was ZeroDivisionError
    (lambda: nn.Conv2d(1, 2, (3, -1)), r"Conv2d: kernel_size must be at least 1, got \(3, -1\)"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), r"Conv2d: stride must be at least 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), r"Conv2d: padding must be ≥ 0"),
    (lambda: nn.Conv2d(1, 2, 3, dilation=0), r"Conv2d: dilation must be at least 1"),
    (lambda: nn.Conv2d(1, 2, 3, stride=2, padding="same"), r"Conv2d: padding='same' needs stride 1"),
    (lambda: nn.ConvTranspose2d(1, 2, 0), r"ConvTranspose2d: kernel_size must be at least 1"),
    (lambda: nn.ConvTranspose2d(1, 2, 3, output_padding=-1), r"ConvTranspose2d: output_padding must be ≥ 0"),
    (lambda: nn.MaxPool2d(0), r"max_pool2d: kernel_size must be at least 1"),
    (lambda: nn.MaxPool2d(2, padding=-1), r"max_pool2d: padding must be ≥ 0"),
    (lambda: nn.AvgPool2d(-2), r"avg_pool2d: kernel_size must be at least 1"),
    (lambda: nn.AvgPool2d(2, stride=0), r"avg_pool2d: stride must be at least 1"),
])
def test_zero_or_negative_kernels_and_windows_are_refused_when_the_layer_is_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_label_smoothing_is_checked_when_the_loss_is_built():
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: label_smoothing must be a number in \[0, 1\], got 'x'"):
        nn.CrossEntropyLoss(label_smoothing="x")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\].*got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    assert nn.CrossEntropyLoss(label_smoothing=np.float32(0.1)).label_smoothing == pytest.approx(0.1)
