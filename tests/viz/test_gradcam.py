"""Grad-CAM: shapes and range, the model left as it was, and heat where the class evidence is."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.viz import grad_cam, plot_grad_cam
from minigrad.viz.gradcam import _resize_matrix


def digits_model_and_images(n=5):
    mg.manual_seed(0)
    model = mg.models.digits_cnn()
    images = np.random.default_rng(0).random((n, 1, 8, 8)).astype(np.float32)
    return model, images


def test_shapes_and_range():
    model, images = digits_model_and_images()
    cams = grad_cam(model, images, 3, model[6])
    assert cams.shape == (5, 8, 8) and cams.dtype == np.float32
    assert cams.min() >= 0.0 and cams.max() <= 1.0
    peaks = cams.max(axis=(1, 2))
    assert np.all((peaks == 1.0) | (peaks == 0.0)) and (peaks == 1.0).any()
    # None explains each image's predicted class; a list gives one class per image
    with mg.no_grad():
        predicted = model.eval()(Tensor(images)).data.argmax(axis=1)
    np.testing.assert_array_equal(grad_cam(model, images, None, model[6]), grad_cam(model, images, predicted, model[6]))
    assert grad_cam(model, Tensor(images), [0, 1, 2, 3, 4], model[4], upsample="nearest").shape == (5, 8, 8)


def test_the_model_is_left_as_it_was():
    model, images = digits_model_and_images()
    model.train()
    model[0].weight.grad = np.full(model[0].weight.shape, 7.0, dtype=np.float32)
    kept = model[0].weight.grad
    model[9].requires_grad_(False)  # a frozen head stays frozen
    flags = [p.requires_grad for p in model.parameters()]
    running = model[5].running_mean.data.copy()
    seen = []
    mine = model[6].register_forward_hook(lambda m, inputs, out: seen.append(out))
    grad_cam(model, images, 1, model[6])
    assert len(model[6]._forward_hooks) == 1  # only mine is left
    mine.remove()
    assert not model[6]._forward_hooks
    assert not seen[0]._hooks  # the tensor hook on the feature maps is gone too
    assert model[0].weight.grad is kept and np.all(kept == 7.0)
    assert all(p.grad is None for p in list(model.parameters())[1:])
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(m.training for m in model.modules())  # ran in eval mode, put back in train mode
    np.testing.assert_array_equal(model[5].running_mean.data, running)


class KeepLeft(nn.Module):
    """Zero the right half of the image: nothing there can reach the class score."""

    def forward(self, x):
        mask = np.zeros(x.shape[-2:], dtype=x.dtype)
        mask[:, : x.shape[-1] // 2] = 1
        return x * Tensor(mask)


def test_a_score_that_reads_only_the_left_half_heats_only_the_left_half():
    mg.manual_seed(1)
    conv = nn.Conv2d(1, 6, 3, padding=1, bias=False)
    model = nn.Sequential(KeepLeft(), conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    images = np.random.default_rng(1).random((4, 1, 12, 12)).astype(np.float32)
    cams = grad_cam(model, images, None, model[2])
    left, right = cams[..., :6].sum(axis=(1, 2)), cams[..., 6:].sum(axis=(1, 2))
    assert np.all(left > 0) and np.all(left / (left + right) > 0.9)


def test_the_heat_is_where_the_class_evidence_is():
    """Class 0 = 'a horizontal bar somewhere', class 1 = 'a vertical bar'; the image has one of each."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    horizontal = np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype=np.float32)
    model[0].weight.data = np.stack([horizontal, horizontal.T])[:, None]
    model[0].bias.data = np.full(2, -1.5, dtype=np.float32)  # a bar's end (response 1) is not a bar
    image = np.zeros((1, 1, 12, 12), dtype=np.float32)
    image[0, 0, 3, 1:5] = 1  # a horizontal bar on the left
    image[0, 0, 6:11, 9] = 1  # a vertical bar on the right
    for target, side in ((0, "left"), (1, "right")):
        cam = grad_cam(model, image, target, model[1])[0]
        left, right = cam[:, :6].sum(), cam[:, 6:].sum()
        assert (left if side == "left" else right) > 0.95 * (left + right)
    heat = grad_cam(model, image, 0, model[1])[0]
    assert np.array_equal(np.argwhere(heat == 1.0), [[3, 2], [3, 3]])  # the bar's middle, where 3 cells are lit
    assert np.all(heat[:, 6:] == 0)


def test_bilinear_resize_matches_torch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).random((3, 4, 5))
    rows, cols = _resize_matrix(4, 9, "bilinear"), _resize_matrix(5, 8, "bilinear")
    ours = np.einsum("Hh,nhw,Ww->nHW", rows, values, cols)
    theirs = torch.nn.functional.interpolate(torch.tensor(values)[:, None], size=(9, 8), mode="bilinear",
                                             align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    nearest = _resize_matrix(2, 4, "nearest")
    np.testing.assert_array_equal(nearest @ np.array([1.0, 5.0]), [1, 1, 5, 5])


def test_clear_errors():
    model, images = digits_model_and_images(2)
    with pytest.raises(ValueError, match="grad_cam: layer Conv2d is not a module of Sequential"):
        grad_cam(model, images, 0, nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match=r"layer 9 \(Linear\) outputs \(2, 10\), not feature maps"):
        grad_cam(model, images, 0, model[9])
    with pytest.raises(ValueError, match=r"x must be a batch \(N, C, H, W\), got shape \(1, 8, 8\)"):
        grad_cam(model, images[0], 0, model[4])
    with pytest.raises(ValueError, match="target_class 10 is out of range for 10 classes"):
        grad_cam(model, images, 10, model[4])
    with pytest.raises(ValueError, match="target_class must be an int or 2 ints"):
        grad_cam(model, images, [1, 2, 3], model[4])
    assert not model[4]._forward_hooks and not model[9]._forward_hooks  # removed even on errors
    assert all(p.requires_grad and p.grad is None for p in model.parameters())


def test_overlay_png(tmp_path):
    pytest.importorskip("matplotlib")
    model, images = digits_model_and_images(3)
    cams = grad_cam(model, images, None, model[6])
    path = plot_grad_cam(images, cams, tmp_path / "cam.png", titles=["a", "b", "c"])
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="must be \\(N, H, W\\) of the same shape"):
        plot_grad_cam(images, cams[:, :4], tmp_path / "bad.png")
    assert [p.name for p in tmp_path.iterdir()] == ["cam.png"]
