"""Conv1d, and Conv2d's padding_mode, against PyTorch's modules: outputs, gradients, state_dict, repr, errors."""
import inspect
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn

rng = np.random.default_rng(0)

CONV1D = {  # name: (make ours or theirs from the nn namespace, input shape)
    "plain": (lambda n: n.Conv1d(3, 4, 3), (2, 3, 9)),
    "stride, padding, dilation": (lambda n: n.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2), (2, 3, 11)),
    "tuples": (lambda n: n.Conv1d(3, 4, (3,), stride=(2,), padding=(1,)), (2, 3, 10)),
    "groups, no bias": (lambda n: n.Conv1d(4, 6, 2, groups=2, bias=False), (2, 4, 7)),
    "depthwise": (lambda n: n.Conv1d(3, 3, 5, padding=2, groups=3), (1, 3, 8)),
    "'same', even kernel": (lambda n: n.Conv1d(2, 3, 4, padding="same"), (2, 2, 7)),
    "'valid'": (lambda n: n.Conv1d(2, 3, 4, padding="valid"), (2, 2, 7)),
    "one sequence (C, L)": (lambda n: n.Conv1d(3, 2, 3, padding=1), (3, 8)),
    "reflect": (lambda n: n.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 6)),
    "replicate, stride": (lambda n: n.Conv1d(2, 3, 3, stride=2, padding=3, padding_mode="replicate"), (2, 2, 6)),
    "circular": (lambda n: n.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 6)),
    "'same' with reflect, even kernel and dilation": (lambda n: n.Conv1d(2, 3, 4, padding="same", dilation=2,
                                                                         padding_mode="reflect"), (2, 2, 9)),
    "reflect, one sequence": (lambda n: n.Conv1d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 6)),
}

CONV2D = {
    "reflect": (lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 5, 6)),
    "reflect, padding (1, 2), stride 2": (lambda n: n.Conv2d(2, 3, 3, stride=2, padding=(1, 2),
                                                             padding_mode="reflect"), (2, 2, 5, 6)),
    "replicate, wide padding": (lambda n: n.Conv2d(2, 3, (2, 3), padding=(4, 1), padding_mode="replicate"),
                                (2, 2, 3, 4)),
    "circular, groups": (lambda n: n.Conv2d(4, 2, 3, padding=2, groups=2, padding_mode="circular"), (1, 4, 5, 5)),
    "'same' with replicate, even kernel": (lambda n: n.Conv2d(2, 3, (2, 4), padding="same",
                                                              padding_mode="replicate"), (2, 2, 5, 6)),
    "'same' with circular and dilation": (lambda n: n.Conv2d(2, 3, 3, padding="same", dilation=(2, 1),
                                                             padding_mode="circular"), (2, 2, 5, 6)),
    "'valid' with reflect": (lambda n: n.Conv2d(2, 3, 3, padding="valid", padding_mode="reflect"), (1, 2, 5, 6)),
    "zeros, for comparison": (lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="zeros"), (2, 2, 5, 6)),
}


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's, about its speed
@pytest.mark.parametrize("name", CONV1D)
def test_conv1d_matches_pytorch(name, compare_modules, torch_on_one_thread):
    make, shape = CONV1D[name]
    compare_modules(make(nn), make(torch_on_one_thread.nn), rng.standard_normal(shape))


@pytest.mark.parametrize("name", CONV2D)
def test_conv2d_padding_modes_match_pytorch(name, compare_modules, torch_on_one_thread):
    make, shape = CONV2D[name]
    compare_modules(make(nn), make(torch_on_one_thread.nn), rng.standard_normal(shape))


def test_a_padding_mode_pads_with_copies_of_the_input_before_the_convolution():
    layer = nn.Conv2d(1, 1, 3, padding=1, bias=False, padding_mode="replicate")
    layer.weight.data[:] = 1.0
    out = layer(Tensor(np.ones((1, 1, 4, 4), np.float32)))
    np.testing.assert_array_equal(out.data, 9.0)  # the border is made of copies of 1, not zeros
    zeros = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    zeros.weight.data[:] = 1.0
    assert zeros(Tensor(np.ones((1, 1, 4, 4), np.float32))).data[0, 0, 0, 0] == 4.0


def test_conv1d_weights_and_initialisation_are_pytorchs():
    mg.manual_seed(0)
    layer = nn.Conv1d(6, 8, 5, groups=2)
    assert layer.weight.shape == (8, 3, 5) and layer.bias.shape == (8,)
    assert list(layer.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 5)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    assert (layer.kernel_size, layer.stride, layer.padding, layer.dilation) == ((5,), (1,), (0,), (1,))
    assert nn.Conv1d(2, 2, 3, padding="same").padding == "same" and layer.padding_mode == "zeros"


@pytest.mark.parametrize("name", ["Conv1d", "Conv2d"])
def test_constructor_arguments_are_pytorchs_padding_mode_included(name):
    torch = pytest.importorskip("torch")

    def arguments(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.default) for p in params if p.name not in ("self", "device", "dtype")]

    assert arguments(getattr(nn, name)) == arguments(getattr(torch.nn, name))


def test_reprs_match_pytorchs(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    makers = [make for make, _ in list(CONV1D.values()) + list(CONV2D.values())] + [
        lambda n: n.Conv2d(1, 6, 5, padding="valid"), lambda n: n.Conv2d(1, 6, 5, padding="same"),
        lambda n: n.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1), lambda n: n.Conv2d(2, 4, 3, dilation=2)]
    for make in makers:
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.Conv1d(2, 4, 3, padding=1, padding_mode="circular")) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,), padding_mode=circular)")


def test_drawings_name_the_padding_mode():
    from minigrad.viz.clusters import brief

    assert brief(nn.Conv2d(1, 6, 5, padding=2, padding_mode="reflect")) == "1, 6, k=5, p=2, padding_mode=reflect"
    assert brief(nn.Conv2d(1, 6, 5, padding=2)) == "1, 6, k=5, p=2"
    assert brief(nn.Conv1d(1, 6, 5, stride=2)) == "1, 6, k=5, s=2"
    assert brief(nn.Conv2d(1, 6, 4, padding="same")) == "1, 6, k=4, p=same"


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Conv2d(1, 2, 3, padding_mode="mirror"), ValueError,
     r"^Conv2d: padding_mode must be one of 'zeros', 'reflect', 'replicate', 'circular', got 'mirror'$"),
    (lambda: nn.Conv1d(1, 2, 3, padding_mode="same"), ValueError, r"^Conv1d: padding_mode must be one of"),
    (lambda: nn.Conv1d(1, 2, 0), ValueError, r"^Conv1d: kernel_size must be at least 1, got 0$"),
    (lambda: nn.Conv1d(1, 2, (3, 3)), TypeError, r"^Conv1d: kernel_size must be an int or a 1-tuple of ints, "
                                                 r"got \(3, 3\)$"),
    (lambda: nn.Conv1d(1, 2, 3, stride=0), ValueError, r"^Conv1d: stride must be at least 1, got 0$"),
    (lambda: nn.Conv1d(1, 2, 3, padding=-1), ValueError, r"^Conv1d: padding must be ≥ 0, got -1$"),
    (lambda: nn.Conv1d(1, 2, 3, dilation=1.5), TypeError, r"^Conv1d: dilation must be an int or a 1-tuple"),
    (lambda: nn.Conv1d(1, 2, 3, padding="full"), ValueError, r"^Conv1d: padding must be an int, 'same' or 'valid', "
                                                             r"got 'full'$"),
    (lambda: nn.Conv1d(1, 2, 3, stride=2, padding="same"), ValueError,
     r"^Conv1d: padding='same' needs stride 1, got stride \(2,\) \(as in PyTorch\); give the padding explicitly, "
     r"e.g. padding=1$"),
    (lambda: nn.Conv1d(4, 6, 3, groups=4), ValueError, r"^Conv1d: in_channels 4 and out_channels 6 must both be "
                                                       r"divisible by groups 4$"),
    (lambda: nn.Conv1d(2.0, 6, 3), TypeError, r"^Conv1d: in_channels must be an int, got 2.0"),
    (lambda: nn.Conv2d(1, 2, 3, stride=2, padding="same", padding_mode="reflect"), ValueError,
     r"^Conv2d: padding='same' needs stride 1"),
])
def test_bad_arguments_are_clear_errors_when_the_layer_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("mode, message", [
    ("reflect", r"pad: reflect padding must be less than the dimension it pads, but got padding \(3, 3\) for dim 3 "
                r"of size 3"),
    ("circular", r"pad: circular padding \(4, 4\) for dim 3 of size 3 would wrap around more than once"),
])
def test_a_padding_the_mode_cannot_make_is_refused_as_pytorch_refuses_it(mode, message, torch_on_one_thread):
    """PyTorch refuses these at the forward pass too (its F.pad's limits), and takes 'same' with any mode."""
    pad = 3 if mode == "reflect" else 4
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(1, 1, 3, padding=pad, padding_mode=mode)(Tensor(np.zeros((1, 1, 3, 3))))
    torch = torch_on_one_thread
    if torch is not None:
        with pytest.raises(RuntimeError):
            torch.nn.Conv2d(1, 1, 3, padding=pad, padding_mode=mode)(torch.zeros(1, 1, 3, 3))
    assert nn.Conv2d(1, 1, 3, padding=3, padding_mode="replicate")(Tensor(np.zeros((1, 1, 3, 3)))).shape == (
        1, 1, 7, 7)
