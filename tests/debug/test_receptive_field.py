"""receptive_field: size, jump and start per layer (Araujo et al., Distill 2019), checked by hand and by backprop."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.debug import receptive_field, receptive_field_report


def column(rows, key):
    return [row[key] for row in rows]


def test_three_3x3_stride_1_convs_see_7x7():
    rows = receptive_field(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 4, 3)))
    assert column(rows, "size") == [3, 5, 7]
    assert column(rows, "jump") == [1, 1, 1]
    assert column(rows, "start") == [1.5, 2.5, 3.5]  # no padding: the first output's centre moves right
    assert column(rows, "name") == ["0", "1", "2"] and column(rows, "type") == ["Conv2d"] * 3
    padded = receptive_field(nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(3)]))
    assert column(padded, "size") == [3, 5, 7] and column(padded, "start") == [0.5, 0.5, 0.5]


def test_alexnet_by_hand():
    rows = receptive_field(mg.models.alexnet(), input_size=227)
    #                 conv11/4 relu pool3/2 conv5p2 relu pool3/2 conv3p1 relu conv3p1 relu conv3p1 relu pool3/2
    assert column(rows, "size")[:13] == [11, 11, 19, 51, 51, 67, 99, 99, 131, 131, 163, 163, 195]
    assert column(rows, "jump")[:13] == [4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 32]
    assert column(rows, "start")[:13] == [5.5, 5.5, 9.5, 9.5, 9.5, 17.5, 17.5, 17.5, 17.5, 17.5, 17.5, 17.5, 33.5]
    assert column(rows, "output_size")[:13] == [55, 55, 27, 27, 27, 13, 13, 13, 13, 13, 13, 13, 6]
    last = rows[-1]  # Flatten ends the spatial map; the classifier after it is not listed
    assert (last["name"], last["type"], last["size"]) == ("13", "Flatten", None)
    assert "ends" in last["note"] and len(rows) == 14


def test_dilation_stride_nested_sequentials_and_rectangles():
    rows = receptive_field(nn.Sequential(
        nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2, padding=2), nn.ReLU()),   # k_eff 5
        nn.MaxPool2d(2),                                                       # stride 2
        nn.Sequential(nn.Sequential(nn.Conv2d(1, 1, (3, 5), padding="same"))),  # rectangular, same padding
        nn.AvgPool2d(3, stride=1, padding=1),
    ), input_size=(16, 12))
    assert column(rows, "name") == ["0.0", "0.1", "1", "2.0.0", "3"]
    assert column(rows, "size") == [5, 5, 6, (10, 14), (14, 18)]
    assert column(rows, "jump") == [1, 1, 2, 2, 2]
    assert column(rows, "start") == [0.5, 0.5, 1.0, 1.0, 1.0]
    assert column(rows, "output_size") == [(16, 12), (16, 12), (8, 6), (8, 6), (8, 6)]


@pytest.mark.parametrize("layers, unit", [
    (lambda: [nn.Conv2d(1, 1, 3, padding=1), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, dilation=2, padding=2),
              nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.AvgPool2d(3, stride=1)], 3),
    (lambda: [nn.Conv2d(1, 1, 5, stride=2), nn.ReLU(), nn.Conv2d(1, 1, 3, stride=2, padding=1), nn.AvgPool2d(2)], 2),
])
def test_backprop_finds_the_same_field(layers, unit):
    """The input pixels whose gradient is non-zero for one output unit are exactly its receptive field."""
    model = nn.Sequential(*layers())
    for p in model.parameters():  # positive weights: nothing cancels, every pixel in the field counts
        p.data = np.full(p.shape, 0.1 if p.ndim > 1 else 0.0, dtype=np.float64)
    rows = receptive_field(model)
    r, j, start = rows[-1]["size"], rows[-1]["jump"], rows[-1]["start"]
    x = Tensor(np.ones((1, 1, 40, 40)), requires_grad=True)
    model(x)[0, 0, unit, unit].backward()
    touched = np.flatnonzero(x.grad[0, 0].any(axis=0))
    centre = start + unit * j  # the field of output unit u is centred at start + u·j
    assert touched.tolist() == list(range(int(centre - r / 2), int(centre + r / 2)))


def test_layers_that_end_the_map_or_are_not_understood():
    rows = receptive_field(nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2)))
    assert column(rows, "type") == ["Conv2d", "AdaptiveAvgPool2d"] and rows[-1]["jump"] is None
    with pytest.raises(ValueError, match=r"receptive_field: layer '1' \(BasicBlock\) is not one it understands"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 8, 3), mg.models.BasicBlock(8, 8)))
    with pytest.raises(ValueError, match=r"layer '\(the model\)' \(ResNet\)"):
        receptive_field(mg.models.resnet())
    with pytest.raises(ValueError, match=r"layer '2' \(MaxPool2d\) gets a 1×1 map .* input_size 5 is too small"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.MaxPool2d(2)), input_size=5)
    with pytest.raises(TypeError, match="expected an nn.Sequential"):
        receptive_field("alexnet")


def test_report_is_a_table():
    text = receptive_field_report(mg.models.digits_cnn(), input_size=8)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "type", "size", "jump", "start", "output_size"]
    assert lines[1].split() == ["0", "Conv2d", "3", "1", "0.5", "8"]
    assert lines[8].split() == ["7", "MaxPool2d", "10", "4", "2.0", "2"]
    assert lines[-1].startswith("8 (Flatten): the spatial map ends here")


def test_output_sizes_follow_a_pools_ceil_mode():
    """MaxPool2d(2, ceil_mode=True) on 7×7 gives 4×4 (the map the layer really makes), not floor's 3×3."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2, ceil_mode=True), nn.Conv2d(2, 2, 3))
    rows = receptive_field(model, input_size=7)
    assert column(rows, "output_size") == [7, 4, 2]
    assert model(Tensor(np.zeros((1, 1, 7, 7), np.float32))).shape[2:] == (2, 2)
