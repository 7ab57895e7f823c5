"""Multi-task and auxiliary losses: the localisation data, IoU, two heads learning together, aux-head gradients."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, data, models, optim
from minigrad.train.multitask import (DeepCNN, LocalizationNet, box_corners, box_iou, evaluate_localization,
                                fit_localization, grad_norms, localization_loss, make_localization_data)


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return data.load_digits()


# -- the synthetic localisation task --


def test_each_digit_is_pasted_whole_and_boxed_around_its_ink(digits):
    (x, y), _ = digits
    images, labels, boxes = make_localization_data(x[:200], y[:200], canvas=16, seed=0)
    assert images.shape == (200, 1, 16, 16) and images.dtype == x.dtype and boxes.shape == (200, 4)
    assert np.array_equal(labels, y[:200])
    np.testing.assert_allclose(images.sum(axis=(1, 2, 3)), x[:200].sum(axis=(1, 2, 3)), rtol=1e-6)  # nothing cut off
    for img, box in zip(images[:, 0], boxes):
        x0, y0, x1, y1 = np.round(box * 16).astype(int)
        assert 0 <= x0 < x1 <= 16 and 0 <= y0 < y1 <= 16
        inside = np.zeros_like(img, dtype=bool)
        inside[y0:y1, x0:x1] = True
        assert not img[~inside].any()  # no ink outside the box
        assert img[y0].any() and img[y1 - 1].any() and img[:, x0].any() and img[:, x1 - 1].any()  # tight
    again = make_localization_data(x[:200], y[:200], canvas=16, seed=0)
    other = make_localization_data(x[:200], y[:200], canvas=16, seed=1)
    assert np.array_equal(again[2], boxes) and not np.array_equal(other[2], boxes)


def test_the_data_builder_says_what_is_wrong():
    with pytest.raises(ValueError, match="cannot hold 8×8"):
        make_localization_data(np.ones((2, 1, 8, 8)), [0, 1], canvas=6)
    with pytest.raises(ValueError, match="image 1 has no pixel"):
        make_localization_data(np.stack([np.ones((1, 8, 8)), np.zeros((1, 8, 8))]), [0, 1])
    with pytest.raises(ValueError, match=r"\(N, 1, h, w\)"):
        make_localization_data(np.ones((2, 8, 8)), [0, 1])


def test_iou_and_the_eight_corner_coordinates():
    a = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.2, 0.2], [0.3, 0.3, 0.3, 0.6]])
    b = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.0, 0.75, 0.5], [0.5, 0.5, 1.0, 1.0], [0.3, 0.3, 0.3, 0.6]])
    np.testing.assert_allclose(box_iou(a, b), [1.0, 1 / 3, 0.0, 0.0])
    assert box_corners([[0.1, 0.2, 0.3, 0.4]]).tolist() == [[0.1, 0.2, 0.3, 0.2, 0.3, 0.4, 0.1, 0.4]]
    with pytest.raises(ValueError, match="box_iou"):
        box_iou(a, b[:2])


# -- two heads, one trunk --


def test_both_losses_reach_the_shared_trunk():
    mg.manual_seed(0)
    model = LocalizationNet(canvas=16, width=4)
    x = mg.randn(6, 1, 16, 16)
    logits, boxes = model(x)
    assert logits.shape == (6, 10) and boxes.shape == (6, 4) and np.all((boxes.data > 0) & (boxes.data < 1))
    labels, targets = np.arange(6) % 10, np.full((6, 4), 0.5, dtype=np.float32)
    grads = {}
    for weight in (0.0, 1.0):
        model.zero_grad()
        total, class_loss, box_loss = localization_loss(model(x), labels, targets, box_weight=weight)
        assert total.item() == pytest.approx(class_loss.item() + weight * box_loss.item(), rel=1e-6)
        total.backward()
        grads[weight] = {n: None if p.grad is None else p.grad.copy() for n, p in model.named_parameters()}
    untaught = grads[0.0]["box.1.weight"]  # λ = 0: no gradient reaches the box head
    assert untaught is None or not untaught.any()
    assert grads[1.0]["box.1.weight"].any()
    assert not np.allclose(grads[0.0]["features.0.weight"], grads[1.0]["features.0.weight"])  # the trunk hears both
    np.testing.assert_allclose(grads[0.0]["classifier.weight"], grads[1.0]["classifier.weight"], rtol=1e-5)


def test_both_heads_learn_on_the_digits(digits):
    (x, y), (xt, yt) = digits
    train = make_localization_data(x[:1000], y[:1000], canvas=16, seed=0)
    test = make_localization_data(xt, yt, canvas=16, seed=1)
    mg.manual_seed(0)
    model = LocalizationNet(canvas=16, width=16)
    before = evaluate_localization(model, *test)
    history = fit_localization(model, train, optim.Adam(model.parameters(), lr=3e-3), epochs=3, val=test)
    after = evaluate_localization(model, *test)
    mean_box_iou = box_iou(np.broadcast_to(train[2].mean(axis=0), test[2].shape), test[2]).mean()
    assert after["accuracy"] > 0.6 and after["accuracy"] > before["accuracy"] + 0.4
    assert after["iou"] > mean_box_iou + 0.25 and after["iou"] > before["iou"] + 0.4
    assert after["box_mse"] < before["box_mse"] / 5
    assert len(history.class_loss) == 3 * 32 and history.val_step == [32, 64, 96]
    assert np.mean(history.iou[-10:]) > np.mean(history.iou[:10]) + 0.2
    assert np.mean(history.class_loss[-10:]) < np.mean(history.class_loss[:10]) - 0.8


def test_the_localization_plots_are_written(digits, tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz.recipe_plots import plot_boxes, plot_localization

    (x, y), _ = digits
    train = make_localization_data(x[:64], y[:64], canvas=16)
    mg.manual_seed(0)
    model = LocalizationNet(canvas=16, width=4)
    history = fit_localization(model, train, optim.Adam(model.parameters(), lr=3e-3), val=train)
    scores = evaluate_localization(model, *train)
    assert plot_localization(history, tmp_path / "curves.png", window=2).endswith("curves.png")
    assert plot_boxes(train[0][:5], train[2][:5], scores["boxes"][:5], tmp_path / "boxes.png", labels=train[1][:5],
                      pred_labels=scores["classes"][:5]).endswith("boxes.png")


# -- auxiliary heads --


def test_aux_heads_leave_the_main_network_as_it_was():
    mg.manual_seed(0)
    plain = DeepCNN(depth=4, width=4)
    mg.manual_seed(0)
    helped = DeepCNN(depth=4, width=4, aux_after=(1, 3))
    main = plain.state_dict()
    assert all(np.array_equal(v, helped.state_dict()[k]) for k, v in main.items())
    out = helped(mg.randn(2, 1, 8, 8))
    assert isinstance(out, tuple) and len(out) == 3 and all(o.shape == (2, 10) for o in out)
    helped.eval()
    assert not isinstance(helped(mg.randn(2, 1, 8, 8)), tuple)  # evaluation uses the main head only
    with pytest.raises(ValueError, match="aux_after must name layers 1..3"):
        DeepCNN(depth=4, aux_after=(4,))


def first_layer_norms(make, x, y):
    norms = []
    for aux in (False, True):
        mg.manual_seed(0)
        model = make(aux)
        models.aux_loss(model(Tensor(x)), y, weight=0.3).backward()
        norms.append(dict(grad_norms(model)))
    return norms


def test_an_aux_head_gives_the_early_layers_a_larger_gradient(digits):
    (x, y), _ = digits
    without, with_aux = first_layer_norms(lambda aux: DeepCNN(depth=8, aux_after=(2,) if aux else ()), x[:64], y[:64])
    assert with_aux["layers.0.0.weight"] > 10 * without["layers.0.0.weight"]
    assert with_aux["layers.1.0.weight"] > 10 * without["layers.1.0.weight"]
    for i in range(2, 8):  # layers above the auxiliary head: exactly the same gradient
        name = f"layers.{i}.0.weight"
        assert with_aux[name] == pytest.approx(without[name], rel=1e-5)


def test_googlenet_aux_head_gives_its_stem_a_larger_gradient(digits):
    (x, y), _ = digits
    without, with_aux = first_layer_norms(lambda aux: models.googlenet(aux=aux), x[:32], y[:32])
    assert with_aux["stem.0.weight"] > 1.2 * without["stem.0.weight"]
    assert with_aux["inception2.branch1.0.weight"] == pytest.approx(without["inception2.branch1.0.weight"], rel=1e-5)


def test_fit_trains_a_model_with_aux_heads(digits):
    from minigrad.train import fit

    (x, y), _ = digits
    mg.manual_seed(0)
    model = DeepCNN(depth=3, width=8, aux_after=(1,))
    history = fit(model, data.DataLoader(x[:128], y[:128], 32), optim.Adam(model.parameters(), lr=3e-3), 1,
                  loss_fn=models.aux_loss, progress=False)
    assert len(history.train_acc) == 4 and all(0 <= a <= 1 for a in history.train_acc)


def test_grad_norms_and_their_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz.recipe_plots import plot_grad_norms

    mg.manual_seed(0)
    model = DeepCNN(depth=2, width=4)
    assert grad_norms(model) == []
    models.aux_loss(model(mg.randn(4, 1, 8, 8)), np.arange(4)).backward()
    names = [n for n, _ in grad_norms(model)]
    assert names == ["layers.0.0.weight", "layers.1.0.weight", "head.2.weight"]
    assert len(grad_norms(model, weights_only=False)) == 6
    assert plot_grad_norms({"a": grad_norms(model)}, tmp_path / "g.png").endswith("g.png")
