"""AdaptiveMaxPool2d, MaxUnpool2d and Upsample against PyTorch's modules."""
import numpy as np
import pytest

from minigrad import Tensor, nn

rng = np.random.default_rng(0)

PAIRS = {  # name: (make ours or theirs from the nn namespace, input shape)
    "adaptive max, global": (lambda n: n.AdaptiveMaxPool2d(1), (2, 3, 5, 7)),
    "adaptive max, overlapping bins": (lambda n: n.AdaptiveMaxPool2d((3, 4)), (2, 3, 5, 7)),
    "adaptive max, a size kept": (lambda n: n.AdaptiveMaxPool2d((None, 2)), (2, 3, 5, 7)),
    "upsample, nearest ×2": (lambda n: n.Upsample(scale_factor=2), (2, 3, 4, 5)),
    "upsample, nearest to a size": (lambda n: n.Upsample(size=(7, 3)), (2, 3, 4, 5)),
    "upsample, nearest ×1.5 on (N, C, L)": (lambda n: n.Upsample(scale_factor=1.5), (2, 3, 5)),
    "upsample, bilinear": (lambda n: n.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 5)),
    "upsample, bilinear, align_corners": (lambda n: n.Upsample(size=(6, 9), mode="bilinear", align_corners=True),
                                          (2, 3, 4, 5)),
    "upsample, bilinear ×(1.5, 2.5), recomputed": (lambda n: n.Upsample(
        scale_factor=(1.5, 2.5), mode="bilinear", recompute_scale_factor=True), (1, 2, 4, 3)),
    "upsample, linear": (lambda n: n.Upsample(scale_factor=3, mode="linear"), (2, 3, 4)),
    "upsample, trilinear": (lambda n: n.Upsample(size=4, mode="trilinear"), (1, 2, 3, 2, 3)),
}


@pytest.mark.parametrize("name", PAIRS)
def test_outputs_and_gradients_match_pytorch(name, compare_modules, torch_on_one_thread):
    make, shape = PAIRS[name]
    compare_modules(make(nn), make(torch_on_one_thread.nn), rng.standard_normal(shape))


def test_adaptive_max_pool_returns_pytorchs_indices(compare_modules, torch_on_one_thread):
    make = lambda n: n.AdaptiveMaxPool2d((2, 3), return_indices=True)  # noqa: E731
    a = rng.standard_normal((2, 3, 5, 7))
    (_, indices), (_, theirs) = compare_modules(make(nn), make(torch_on_one_thread.nn), a)
    np.testing.assert_array_equal(indices.data, theirs.numpy())


@pytest.mark.parametrize("kernel, stride, padding, size, output_size", [
    (2, None, 0, (6, 8), None),
    (3, 2, 1, (7, 9), None),
    (3, 2, 1, (7, 9), (8, 10)),  # the sizes max pooling rounded down, given back
    ((2, 3), (2, 1), 0, (6, 7), None),
])
def test_max_unpool_puts_back_pytorchs_max_pool(kernel, stride, padding, size, output_size, compare_modules,
                                                torch_on_one_thread):
    torch = torch_on_one_thread
    _, indices = torch.nn.functional.max_pool2d(torch.tensor(rng.standard_normal((2, 3, *size))), kernel, stride,
                                                padding, return_indices=True)
    pooled = rng.standard_normal(tuple(indices.shape))

    class Unpool:  # the layer, its forward(input, indices) given output_size
        def __init__(self, layer):
            self.layer = layer

        def __getattr__(self, name):  # parameters, state_dict, double, ...
            return getattr(self.layer, name)

        def __call__(self, x, i):
            return self.layer(x, i, output_size)

    ours, theirs = nn.MaxUnpool2d(kernel, stride, padding), torch.nn.MaxUnpool2d(kernel, stride, padding)
    out, _ = compare_modules(Unpool(ours), Unpool(theirs), pooled, indices.numpy())
    assert out.shape[2:] == (output_size or size)  # here the default size is the size that was pooled


def test_max_pool_and_unpool_round_trip_in_a_model():
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    a = Tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    y, indices = pool(a)
    back = unpool(y, indices)
    kept = back.data != 0
    assert kept.sum() == 8 and np.array_equal(back.data[kept], a.data[kept])  # each window's maximum, in place
    back.sum().backward()
    np.testing.assert_array_equal(a.grad, kept)


def test_reprs_and_attributes_match_pytorchs(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    for make in [make for make, _ in PAIRS.values()] + [
            lambda n: n.MaxUnpool2d(2), lambda n: n.MaxUnpool2d((3, 2), stride=1, padding=(1, 0)),
            lambda n: n.Upsample(size=[4, 6], mode="bilinear"), lambda n: n.Upsample(scale_factor=np.int64(2))]:
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        for name in ("output_size", "return_indices", "kernel_size", "stride", "padding", "size", "scale_factor",
                     "mode", "align_corners", "recompute_scale_factor", "name"):
            assert getattr(ours, name, None) == getattr(theirs, name, None), name
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.AdaptiveMaxPool2d(0), ValueError, r"^AdaptiveMaxPool2d: output_size must be at least 1, got 0$"),
    (lambda: nn.AdaptiveMaxPool2d((2, 2.5)), TypeError, r"^AdaptiveMaxPool2d: output_size must be an int, got 2.5"),
    (lambda: nn.MaxUnpool2d(0), ValueError, r"^MaxUnpool2d: kernel_size must be at least 1, got \(0, 0\)$"),
    (lambda: nn.MaxUnpool2d(2, stride=(1, 0)), ValueError, r"^MaxUnpool2d: stride must be at least 1"),
    (lambda: nn.MaxUnpool2d(2, padding=-1), ValueError, r"^MaxUnpool2d: padding must be ≥ 0"),
    (lambda: nn.Upsample(), ValueError, r"^Upsample: give exactly one of size and scale_factor"),
    (lambda: nn.Upsample(size=4, scale_factor=2), ValueError, r"^Upsample: give exactly one of size and scale_factor"),
    (lambda: nn.Upsample(scale_factor=2, mode="bicubic"), ValueError,
     r"^Upsample: mode 'bicubic' is not supported; use one of 'nearest', 'linear', 'bilinear', 'trilinear'$"),
    (lambda: nn.Upsample(scale_factor=2, align_corners=True), ValueError,
     r"^Upsample: align_corners can only be set with the interpolating modes"),
    (lambda: nn.Upsample(size=0), ValueError, r"^Upsample: size must be a positive int or a tuple of them"),
    (lambda: nn.Upsample(size=(4, 2.5)), ValueError, r"^Upsample: size must be a positive int"),
    (lambda: nn.Upsample(scale_factor=-2), ValueError, r"^Upsample: scale_factor must be a positive number"),
    (lambda: nn.Upsample(scale_factor="2"), ValueError, r"^Upsample: scale_factor must be a positive number"),
])
def test_bad_arguments_are_clear_errors_when_the_layer_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_are_the_functions_clear_errors():
    with pytest.raises(ValueError, match=r"interpolate: mode 'bilinear' needs a 4-D input, got 3-D"):
        nn.Upsample(scale_factor=2, mode="bilinear")(Tensor(np.zeros((1, 2, 3))))
    with pytest.raises(ValueError, match=r"interpolate: size must have one entry per spatial dimension \(2\)"):
        nn.Upsample(size=(2, 3, 4))(Tensor(np.zeros((1, 2, 3, 3))))


def test_drawings_leave_out_the_defaults():
    from minigrad.viz.clusters import brief

    assert brief(nn.Upsample(scale_factor=2)) == "scale_factor=2.0"
    assert brief(nn.Upsample(size=(4, 6), mode="bilinear")) == "size=(4, 6), mode='bilinear'"
    assert brief(nn.MaxUnpool2d(2)) == "k=2, s=2" and brief(nn.AdaptiveMaxPool2d((2, 3))) == "out=(2, 3)"
