"""LayerNorm, GroupNorm, InstanceNorm2d against PyTorch's modules: outputs, gradients, state_dict, train and eval."""
import numpy as np
import pytest

from minigrad import Tensor, nn

rng = np.random.default_rng(0)


def x(*shape):
    return rng.standard_normal(shape) * 2 + 0.5


PAIRS = {  # name: (make ours or theirs from the nn namespace, input shape)
    "LayerNorm over the last dim": (lambda n: n.LayerNorm(5), (3, 4, 5)),
    "LayerNorm over two dims": (lambda n: n.LayerNorm((3, 4), eps=1e-3), (2, 5, 3, 4)),
    "LayerNorm, a list": (lambda n: n.LayerNorm([4]), (6, 4)),
    "LayerNorm without affine": (lambda n: n.LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    "LayerNorm without bias": (lambda n: n.LayerNorm((2, 4), bias=False), (3, 2, 4)),
    "GroupNorm": (lambda n: n.GroupNorm(2, 6), (3, 6, 4, 5)),
    "GroupNorm, one group (layer norm over C, H, W)": (lambda n: n.GroupNorm(1, 4, eps=1e-3), (2, 4, 3, 3)),
    "GroupNorm, a group per channel, on (N, C, L)": (lambda n: n.GroupNorm(4, 4), (2, 4, 7)),
    "GroupNorm without affine": (lambda n: n.GroupNorm(3, 6, affine=False), (2, 6, 3, 2)),
    "GroupNorm without bias": (lambda n: n.GroupNorm(3, 6, bias=False), (2, 6, 3, 2)),
    "InstanceNorm2d": (lambda n: n.InstanceNorm2d(3), (4, 3, 5, 6)),
    "InstanceNorm2d, affine": (lambda n: n.InstanceNorm2d(3, affine=True), (4, 3, 5, 6)),
    "InstanceNorm2d, affine without bias": (lambda n: n.InstanceNorm2d(3, affine=True, bias=False), (2, 3, 4, 4)),
    "InstanceNorm2d, one image (C, H, W)": (lambda n: n.InstanceNorm2d(3, affine=True), (3, 5, 4)),
}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_outputs_and_gradients_match_pytorch(name, mode, compare_modules, torch_on_one_thread):
    make, shape = PAIRS[name]
    ours, theirs = make(nn), make(torch_on_one_thread.nn)
    getattr(ours, mode)()
    getattr(theirs, mode)()
    compare_modules(ours, theirs, x(*shape))


def test_instance_norm_with_tracked_statistics_uses_them_in_eval_only(compare_modules, torch_on_one_thread):
    torch = torch_on_one_thread
    ours, theirs = nn.InstanceNorm2d(3, momentum=0.3, affine=True, track_running_stats=True), \
        torch.nn.InstanceNorm2d(3, momentum=0.3, affine=True, track_running_stats=True)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    compare_modules(ours, theirs, x(4, 3, 5, 6))  # train: the batch's statistics, and the running ones move
    compare_modules(ours, theirs, x(2, 3, 4, 4), seed=1)  # (each call copies PyTorch's state into ours first)
    for key in ("running_mean", "running_var"):
        np.testing.assert_allclose(ours.state_dict()[key], theirs.state_dict()[key].numpy(), rtol=1e-12)
    assert not np.allclose(ours.running_var.data, 1.0)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 0  # PyTorch does not count them
    ours.eval()
    theirs.eval()
    before = theirs.running_mean.clone()
    compare_modules(ours, theirs, x(2, 3, 4, 4), seed=2)  # eval: the running statistics, which stay put
    assert torch.equal(theirs.running_mean, before)
    np.testing.assert_array_equal(ours.running_mean.data, before.numpy())  # as copied in before the forward
    # in eval a constant channel is not sent to β: the running statistics normalise it, not its own
    flat = ours(Tensor(np.ones((1, 3, 2, 2)))).data[0, :, 0, 0]
    mean, var, w, b = (t.data for t in (ours.running_mean, ours.running_var, ours.weight, ours.bias))
    np.testing.assert_allclose(flat, w * (1 - mean) / np.sqrt(var + 1e-5) + b, rtol=1e-12)


def test_instance_norm_momentum_none_keeps_the_running_statistics(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    ours, theirs = nn.InstanceNorm2d(2, momentum=None, track_running_stats=True).double(), \
        torch.nn.InstanceNorm2d(2, momentum=None, track_running_stats=True).double()
    a = x(3, 2, 4, 4)
    ours(Tensor(a))
    theirs(torch.tensor(a))
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)


def test_without_tracked_statistics_train_and_eval_are_the_same():
    a = Tensor(x(2, 3, 4, 4))
    for layer in (nn.InstanceNorm2d(3, affine=True), nn.LayerNorm(4), nn.GroupNorm(3, 3)):
        np.testing.assert_array_equal(layer.train()(a).data, layer.eval()(a).data)
    assert nn.InstanceNorm2d(3).state_dict() == {} and list(nn.InstanceNorm2d(3).parameters()) == []


def test_weights_load_from_a_pytorch_model(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.GroupNorm(2, 4), torch.nn.InstanceNorm2d(
        4, affine=True, track_running_stats=True), torch.nn.Flatten(1, 2), torch.nn.LayerNorm(6)).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    theirs.train()(torch.randn(3, 2, 8, 8, dtype=torch.float64))  # running statistics that are not 0 and 1
    ours = nn.Sequential(nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True,
                                                                                  track_running_stats=True),
                         nn.Flatten(1, 2), nn.LayerNorm(6)).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    a = x(2, 2, 8, 8)
    for mode in ("train", "eval"):
        out, ref = getattr(ours, mode)()(Tensor(a)), getattr(theirs, mode)()(torch.tensor(a))
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_reprs_match_pytorchs(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    for make in (lambda n: n.LayerNorm(5), lambda n: n.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False),
                 lambda n: n.LayerNorm(4, bias=False), lambda n: n.GroupNorm(2, 6), lambda n: n.GroupNorm(
                     3, 3, affine=False), lambda n: n.InstanceNorm2d(4),
                 lambda n: n.InstanceNorm2d(4, momentum=None, affine=True, track_running_stats=True),
                 lambda n: n.BatchNorm2d(3, affine=False)):
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.LayerNorm(5)) == "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.LayerNorm(0), ValueError, r"^LayerNorm: normalized_shape must be at least 1, got 0$"),
    (lambda: nn.LayerNorm(()), ValueError, r"^LayerNorm: normalized_shape must name at least one dim"),
    (lambda: nn.LayerNorm(3.5), TypeError, r"^LayerNorm: normalized_shape must be an int, got 3.5"),
    (lambda: nn.LayerNorm((3, "4")), TypeError, r"^LayerNorm: normalized_shape must be an int, got '4'"),
    (lambda: nn.LayerNorm(4, eps="small"), TypeError, r"^LayerNorm: eps must be a number, got 'small'"),
    (lambda: nn.GroupNorm(4, 6), ValueError,
     r"^GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\); use a divisor of 6, e.g. num_groups=3$"),
    (lambda: nn.GroupNorm(0, 6), ValueError, r"^GroupNorm: num_groups must be at least 1, got 0$"),
    (lambda: nn.GroupNorm(2, 6.0), TypeError, r"^GroupNorm: num_channels must be an int, got 6.0"),
    (lambda: nn.InstanceNorm2d(0), ValueError, r"^InstanceNorm2d: num_features must be at least 1, got 0$"),
    (lambda: nn.InstanceNorm2d(3, momentum="0.1"), TypeError, r"^InstanceNorm2d: momentum must be a number"),
])
def test_bad_arguments_are_clear_errors_when_the_layer_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match=r"^InstanceNorm2d: expected a 4-D input \(N, C, H, W\) or a 3-D one "
                                         r"\(C, H, W\), got shape \(2, 3\)$"):
        nn.InstanceNorm2d(3)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"^InstanceNorm2d: expected 3 channels \(num_features\), got an input of "
                                         r"shape \(2, 4, 3, 3\) with 4$"):
        nn.InstanceNorm2d(3, affine=True)(Tensor(x(2, 4, 3, 3)))
    with pytest.warns(UserWarning, match="InstanceNorm2d: the input has 4 channels, not num_features=3"):
        nn.InstanceNorm2d(3)(Tensor(x(2, 4, 3, 3)))  # as PyTorch: num_features is not used, so only a warning
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(5,\) must be the input's last dims"):
        nn.LayerNorm(5)(Tensor(x(2, 4)))
    with pytest.raises(ValueError, match=r"group_norm: weight has shape \(6,\) but must have shape \(4,\)"):
        nn.GroupNorm(2, 6)(Tensor(x(2, 4, 3)))


def test_drawings_leave_out_the_defaults():
    from minigrad.viz.clusters import brief

    assert brief(nn.InstanceNorm2d(3)) == "3"  # its own defaults: no affine parameters, no running statistics
    tracked = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert brief(tracked) == "3, affine=True, track_running_stats=True"
    assert brief(nn.BatchNorm2d(3)) == "3" and brief(nn.BatchNorm2d(3, affine=False)) == "3, affine=False"
    assert brief(nn.GroupNorm(2, 8)) == "2, 8" and brief(nn.LayerNorm(8, bias=False)) == "(8,), bias=False"
    assert brief(nn.LayerNorm((3, 8), elementwise_affine=False)) == "(3, 8), elementwise_affine=False"
