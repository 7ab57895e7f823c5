"""Drawings of real models: sizes measured on the rendered SVG, layer names, folding, truthfulness, bad input.

The SVGs are rendered the way users get them: with the system's Graphviz ``dot`` when it is installed,
and with ``graphviz-pure`` (the PyPI fallback) -- each size test runs with both (CI installs both).
"""
import html
import re
import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, nn
from minigrad.viz import render
from minigrad.viz.stepper import stepper

SCREEN = 1600  # px: a laptop's screen, which a drawing is fitted to


def renderers():
    found = []
    for program in ("dot", "graphviz-pure"):
        present = shutil.which(program) or render._beside_python(program)
        found.append(pytest.param(program, marks=[] if present else pytest.mark.skip(
            reason=f"{program} is not installed ({'apt-get install graphviz' if program == 'dot' else 'pip install graphviz-pure'})")))
    return found


@pytest.fixture(params=renderers())
def program(request, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DOT", request.param)
    return request.param


def svg_size(diagram):
    svg = diagram.pipe(format="svg").decode()
    width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    return float(width), float(height), svg


def smallest_font(svg):
    return min(float(s) for s in re.findall(r'font-size="([\d.]+)"', svg))


def lenet_step(retain=False):
    mg.manual_seed(0)
    model = mg.models.lenet5()
    x = Tensor(np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32))
    loss = F.cross_entropy(model(x), np.array([1, 2, 3, 4]))
    loss.backward(retain_graph=retain)
    return model, loss


def test_lenet5_at_full_depth_fits_the_targets(program):
    _, loss = lenet_step()
    width, height, svg = svg_size(mg.draw(loss))
    assert width <= 1200 and height <= 4000, (width, height)
    assert svg.count("class=\"node\"") > 30  # every gate, parameter and edge label is there
    for gate in ("conv2d", "relu", "max_pool2d", "reshape", "linear", "cross_entropy"):
        assert f">{gate}</text>" in svg
    assert svg.count(">conv2d</text>") == 2 and svg.count(">linear</text>") == 3
    assert "collapsed" not in svg and "not drawn" not in svg  # within the budget: nothing collapsed or cut


def test_lenet5_collapsed_by_layer_is_narrow_and_names_every_layer(program):
    _, loss = lenet_step()
    width, _, svg = svg_size(mg.draw(loss, depth=1))
    assert width <= 600, width
    src = mg.draw(loss, depth=1).source
    assert "0: Conv2d(1, 6, k=5, p=2)" in src and "→ (4, 6, 28, 28) · 156 parameters · 1 gate" in src
    assert "7: Linear(400, 120)" in src and "→ (4, 120) · 48,120 parameters" in src
    assert "2: MaxPool2d(k=2, s=2)" in src and "no parameters" in src
    assert "gate</font>" not in src.split("0: Conv2d")[0]  # no anonymous "0 / 1 gate" boxes
    assert re.search(r"grad \(4, 6, 28, 28\) ‖[\d.]+‖", src)  # edges between boxes: the gradient's shape, norm


def test_the_demos_training_step_fits_the_targets(program):
    mg.manual_seed(0)
    (x, y), _ = mg.data.load_digits()
    model = mg.models.digits_cnn()
    loss = F.cross_entropy(model(Tensor(x[:4])), y[:4])
    loss.backward(retain_graph=True)
    width, height, _ = svg_size(mg.draw(loss, grad_colors=True))
    assert width <= 1200 and height <= 4000, (width, height)
    width, _, _ = svg_size(mg.draw(loss, depth=1, grad_colors=True))
    assert width <= 600, width


def test_the_lectures_neuron_is_readable_fitted_to_a_laptop_screen(program):
    f, _ = mg.lectures.neuron_gates()
    f.backward()
    width, height, svg = svg_size(mg.draw(f))
    text_px = smallest_font(svg) * SCREEN / width  # 1 pt = 4/3 px, and fitting scales by 1600 px / (4/3 · width)
    assert text_px >= 9, (width, smallest_font(svg))


def test_a_long_chain_is_cut_to_a_drawable_size(program):
    y = mg.Value(0.1)
    for _ in range(9_000):
        y = y.tanh()
    y.backward()
    width, height, svg = svg_size(mg.draw(y))
    assert max(width, height) <= 4000, (width, height)
    assert "earlier nodes not drawn" in svg


def text_boxes(svg, pattern):
    """The boxes (x0, y0, x1, y1) of the SVG's texts that match ``pattern``, their width estimated from the font."""
    boxes = []
    for anchor, x, y, size, text in re.findall(r'<text[^>]*? text-anchor="(\w+)" x="([-\d.]+)" y="([-\d.]+)"[^>]*'
                                               r'font-size="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        text = html.unescape(text)
        if re.match(pattern, text):
            x, y, size = float(x), float(y), float(size)
            width = len(text) * size * 0.52
            left = {"start": x, "middle": x - width / 2}.get(anchor, x - width)
            boxes.append((text, (left, y - 0.8 * size, left + width, y + 0.2 * size)))
    return boxes


def edge_points(svg):
    """Points along every edge's path (its cubic Bézier pieces, sampled)."""
    for d in re.findall(r'<g id="[^"]*" class="edge">.*?<path[^>]*\sd="([^"]+)"', svg, re.DOTALL):
        xy = [tuple(map(float, p.split(","))) for p in re.findall(r"[-\d.]+,[-\d.]+", d)]
        for k in range(0, len(xy) - 3, 3):
            for t in np.linspace(0, 1, 25):
                yield tuple((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t * t * c + t ** 3 * e
                            for a, b, c, e in zip(*xy[k:k + 4]))


def test_no_edge_runs_through_a_cluster_title(program):
    _, loss = lenet_step()
    svg = svg_size(mg.draw(loss))[2]
    # LeNet's layers are named 0 to 11: "2: MaxPool2d(k=2, s=2) → (4, 6, 14, 14)", on one line or two
    titles = text_boxes(svg, r"\d+: [A-Z]\w*|→ \(")
    assert len([t for t, _ in titles if t[0].isdigit()]) == 12, titles
    struck = {title for x, y in edge_points(svg) for title, (x0, y0, x1, y1) in titles
              if x0 <= x <= x1 and y0 <= y <= y1}
    assert not struck, sorted(struck)


def title_text(diagram):
    return re.search(r"label=<(.*?)> labelloc", diagram.source, re.DOTALL).group(1).replace("<br/>", " ")


@pytest.mark.parametrize("rankdir", ["LR", "RL"])
def test_a_left_to_right_drawing_keeps_to_the_budget_too(program, rankdir):
    _, loss = lenet_step()  # LeNet-5 left to right, full depth: 4,503 pt wide before the budget counted pt
    for depth in (None, 1):
        diagram = mg.draw(loss, depth=depth, rankdir=rankdir)
        width, height, _ = svg_size(diagram)
        assert width <= 4000 and height <= 1200, (depth, width, height)
        assert "nodes nearest the root" in title_text(diagram)  # it says it left some out
    mg.manual_seed(0)  # a 25-layer MLP, one box per layer: 8,044 pt wide before
    mlp = nn.Sequential(*[m for _ in range(25) for m in (nn.Linear(8, 8), nn.ReLU())], nn.Linear(8, 3))
    loss = F.cross_entropy(mlp(Tensor(np.random.default_rng(0).random((4, 8)).astype(np.float32))),
                           np.array([0, 1, 2, 0]))
    loss.backward()
    width, height, _ = svg_size(mg.draw(loss, depth=1, rankdir=rankdir))
    assert width <= 4000 and height <= 1200, (width, height)


def wide_sum(branches=100):
    xs = [Tensor(np.ones(8, np.float32), requires_grad=True, label=f"x{i}") for i in range(branches)]
    y = mg.stack([x * 2 for x in xs]).sum()
    y.backward()
    return y


@pytest.mark.parametrize("rankdir, bounds", [("TB", (1200, 4000)), ("LR", (4000, 1200))])
def test_a_wide_graph_is_narrowed_to_the_budget(program, rankdir, bounds):
    y = wide_sum()  # one rank of 100 branches: 17,194 pt wide before, though cut to 250 nodes
    diagram = mg.draw(y, rankdir=rankdir)
    width, height, svg = svg_size(diagram)
    assert width <= bounds[0] and height <= bounds[1], (width, height)
    assert re.search(r"showing the \d+ nodes nearest the root", title_text(diagram))
    assert ">stack</text>" in svg and ">sum</text>" in svg and "earlier nodes not drawn" in svg
    small = wide_sum(3)  # a few branches fit: all drawn
    assert "not drawn" not in mg.draw(small, rankdir=rankdir).source


def test_wide_and_deep_models_collapse_to_fit(program):
    rng = np.random.default_rng(0)
    mg.manual_seed(0)
    net = mg.models.googlenet()  # inception blocks: four branches side by side (2,412 x 2,932 pt before)
    loss = F.cross_entropy(net(Tensor(rng.random((2, 1, 8, 8)).astype(np.float32))), np.array([0, 1]))
    loss.backward()
    for rankdir, bounds in (("TB", (1200, 4000)), ("LR", (4000, 1200))):
        width, height, _ = svg_size(mg.draw(loss, rankdir=rankdir))
        assert width <= bounds[0] and height <= bounds[1], (rankdir, width, height)
    mg.manual_seed(0)
    net = mg.models.resnet(blocks=(2, 2, 2))  # depth=4 draws every block's gates: 5,336 pt tall before
    loss = F.cross_entropy(net(Tensor(rng.random((2, 1, 8, 8)).astype(np.float32))), np.array([1, 2]))
    loss.backward()
    width, height, _ = svg_size(mg.draw(loss, depth=4))
    assert width <= 1200 and height <= 4000, (width, height)


def test_the_title_wraps_to_the_drawings_width(program):
    mg.manual_seed(0)  # twelve layers collapsed, the note saying so: its boxes are ~220 pt wide, the title was 1,045
    mlp = nn.Sequential(*[m for _ in range(12) for m in (nn.Linear(8, 8), nn.ReLU())], nn.Linear(8, 3))
    loss = F.cross_entropy(mlp(Tensor(np.random.default_rng(0).random((4, 8)).astype(np.float32))),
                           np.array([0, 1, 2, 0]))
    loss.backward()
    for options in ({"max_nodes": 60}, {"depth": 1, "grad_colors": True}):
        diagram = mg.draw(loss, **options)
        width, _, svg = svg_size(diagram)
        assert width <= 400, (options, width)
        assert "over the drawing budget" in title_text(diagram) or "vanishing" in svg


def test_a_gate_named_by_its_symbol_has_it_in_its_cell_and_no_empty_one():
    _, loss = lenet_step()
    src = mg.draw(loss).source
    cells = re.findall(r'<td bgcolor="lightyellow"[^>]*>(.*?)</td>', src)
    assert cells and all(cells), cells  # no empty yellow cell (relu's, reshape's symbol is its name)
    assert "<b>relu</b>" in cells and "<b>reshape</b>" in cells and "conv" in cells
    assert all('style="rounded"' in c for c in re.findall(r'<td bgcolor="lightyellow"[^>]*>', src))  # fill inside corners
    assert src.count("<b>relu</b>") == 4  # the name once, in the cell


def test_the_legend_says_what_the_edges_read():
    _, loss = lenet_step()
    full, boxes = title_text(mg.draw(loss)), title_text(mg.draw(loss, depth=1))
    assert "edges: downstream = local × upstream" in full and "between boxes" not in full
    assert "downstream = local × upstream" not in boxes and "edges between boxes: the gradient that crosses" in boxes
    mg.manual_seed(0)
    net = mg.models.resnet(blocks=(2, 2, 2))  # depth 3: gates in clusters and boxes: both
    loss = F.cross_entropy(net(Tensor(np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32))),
                           np.array([1, 2]))
    loss.backward()
    both = title_text(mg.draw(loss, depth=3))
    assert "downstream = local × upstream, between boxes the gradient that crosses" in both


def test_the_readme_shows_the_drawings_in_docs():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    for picture in ("lenet5.svg", "lenet5_layers.svg", "resnet_blocks.svg"):
        assert (root / "docs" / picture).is_file() and f'src="docs/{picture}"' in readme, picture


# --- truthful ---------------------------------------------------------------------------------------------


def hooked_graph():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    h = x * 3
    h.label = "h"
    h.register_hook(lambda g: g * 10)
    y = (h * h).sum()
    return x, h, y


def test_a_hook_shows_the_same_numbers_in_backward_the_steps_the_drawing_and_the_stepper(tmp_path):
    x, h, y = hooked_graph()
    steps = list(y.backward_steps(retain_graph=True))
    hook = [s for s in steps if s.kind == "hook"]
    assert len(hook) == 1 and hook[0].gate == "hook" and hook[0].output is h
    assert hook[0].upstream.tolist() == [6.0, 12.0] and hook[0].downstream[0].tolist() == [60.0, 120.0]
    assert str(hook[0]) == "hook on h: upstream [6.0, 12.0] replaced by the hook's [60.0, 120.0]"
    assert x.grad.tolist() == [180.0, 360.0]
    x2, h2, y2 = hooked_graph()
    y2.backward()  # a plain backward: the drawing shows what it recorded
    assert x2.grad.tolist() == [180.0, 360.0]
    src = mg.draw(y2).source
    assert "grad [180.0, 360.0]" in src and "hook: [6.0, 12.0] → [60.0, 120.0]" in src
    page = stepper(y2, tmp_path / "hook.html")
    text = page.read_text(encoding="utf-8")
    assert "hook</span> gate" in text and "[180.0, 360.0]" in text and "[18.0, 36.0]" not in text
    x3, _, y3 = hooked_graph()  # never backpropagated: the stepper's dry run runs the hook too
    text = stepper(y3, tmp_path / "dry.html").read_text(encoding="utf-8")
    assert "[180.0, 360.0]" in text and "[18.0, 36.0]" not in text and x3.grad is None


@pytest.mark.parametrize("mode", ["plain", "retain", "dry"])
def test_a_copy_gates_edge_adds_up_the_gradients_before_the_hook_changed_them(mode):
    _, _, y = hooked_graph()
    if mode != "dry":
        y.backward(retain_graph=mode == "retain")
    frames = [mg.draw(y, step=k).source for k in range(len(mg.viz.frames.backprop_steps(y)))]
    if mode != "dry":
        frames.append(mg.draw(y).source)
    sums = [re.findall(r"\[[\d., ]+\] = \[[\d., ]+\] \+ \[[\d., ]+\]", src) for src in frames]
    assert ["[6.0, 12.0] = [3.0, 6.0] + [3.0, 6.0]"] in sums  # the copy gate's sum; the hook then makes it [60, 120]
    assert all(found in ([], ["[6.0, 12.0] = [3.0, 6.0] + [3.0, 6.0]"]) for found in sums), sums


def test_a_fan_out_known_by_norms_says_it_is_a_sum_without_adding_norms():
    x = Tensor(np.linspace(-1.0, 1.0, 20), requires_grad=True, label="x")
    h = x * 3
    y = (h.exp() + h.tanh()).sum()
    y.backward()  # a plain backward: h's 20-element gradients are kept as shape and norm
    src = mg.draw(y).source
    h_grad = np.exp(3 * x.data) + 1 - np.tanh(3 * x.data) ** 2
    assert f"(20,) ‖{np.linalg.norm(h_grad):.4g}‖ = Σ of 2 branches" in src
    assert not re.search(r"‖[\d.]+‖ = ‖[\d.]+‖ \+ ‖", src)  # no sum of norms


def test_after_a_plain_backward_the_drawing_shows_the_parameters_gradients():
    model, loss = lenet_step()
    src = mg.draw(loss).source
    weight = model[0].weight
    assert f"grad ‖{np.linalg.norm(weight.grad.astype(np.float64)):.4g}‖" in src
    assert "freed" in src  # the title says the values were freed and how to keep them
    assert "backward(retain_graph=True) keeps them" in src


@pytest.mark.parametrize("retain", [False, True])
def test_a_parameters_drawn_gradient_is_this_backwards_and_its_accumulated_grad_is_labelled(retain):
    x = Tensor(np.linspace(0.1, 2.0, 20), label="x")
    w = Tensor(np.ones(20), requires_grad=True, label="w")
    norm = f"{np.linalg.norm(x.data):.4g}"
    y = (x * w).sum()
    y.backward(retain_graph=retain)
    src = mg.draw(y).source
    assert f"grad ‖{norm}‖</font></td>" in src.split("<b>w</b>")[1].split("</table>")[0]  # the node: this backward's
    assert "accumulated" not in src
    for _ in range(2):  # two more passes without zero_grad: .grad is three times this backward's gradient
        y = (x * w).sum()
        y.backward(retain_graph=retain)
    node = mg.draw(y).source.split("<b>w</b>")[1].split("</table>")[0]
    assert f"grad ‖{norm}‖" in node and f".grad ‖{3 * np.linalg.norm(x.data):.4g}‖ (accumulated)" in node
    edge = re.findall(r"‖([\d.]+)‖ = a ×", mg.draw(y).source)  # mul's rule for w: dL/db = a ⊙ dL/dy
    assert edge == [norm]  # the edge into it says the same as the node
    w.grad = np.zeros(20)
    assert ".grad ‖0.0‖ (zeroed since)" in mg.draw(y).source
    w.grad = None  # zero_grad(): the drawing still shows what the backward gave it
    assert f"grad ‖{norm}‖" in mg.draw(y).source and ".grad" not in mg.draw(y).source.split("<b>w</b>")[1][:300]


def test_the_tooltip_has_statistics_and_the_values(program):
    model, loss = lenet_step()
    diagram = mg.draw(loss)
    tips = {t.split(":")[0]: html.unescape(t) for t in re.findall(r'tooltip="([^"]*)"', diagram.source)}
    weight = model[0].weight  # 150 values: all of them, to 6 significant digits, with min, max, mean and norm
    tip = tips["0.weight"]
    w = weight.data.astype(np.float64)
    assert (f"value: min {w.min():.4g}, max {w.max():.4g}, mean {w.mean():.4g}, ‖·‖ {np.linalg.norm(w):.4g}"
            in tip)
    assert re.findall(r"-?\d[\d.e+-]*(?=[,\]])", tip.split("grad:")[0].split("\n", 2)[2]) == [
        f"{v:.6g}" for v in weight.data.reshape(-1).tolist()]
    g = weight.grad.astype(np.float64)
    assert f"grad: min {g.min():.4g}, max {g.max():.4g}, mean {g.mean():.4g}, ‖·‖ {np.linalg.norm(g):.4g}" in tip
    assert f"{weight.grad.reshape(-1)[0]:.6g}, " in tip.split("grad:")[1]
    big = tips["7.weight"]  # 48,000 values: as many as a tooltip holds, and how many more there are
    assert re.search(r"the first [\d,]+ of 48,000 \(flattened\):", big) and re.search(r"… [\d,]+ more\]", big)
    shown = int(re.search(r"the first ([\d,]+) of 48,000", big).group(1).replace(",", ""))
    assert shown >= 300
    assert all(len(t) < 16_384 for t in re.findall(r'tooltip="([^"]*)"', diagram.source))  # Graphviz 2's limit
    svg_size(diagram)  # and it renders


def lenet_forward():
    mg.manual_seed(0)
    model = mg.models.lenet5()
    logits = model(Tensor(np.random.default_rng(0).random((2, 1, 28, 28)).astype(np.float32)))
    return model, logits, F.cross_entropy(logits, np.array([0, 1]))


def test_after_a_plain_backward_each_edge_inside_a_module_has_its_gradients_shape_and_norm():
    model, loss = lenet_step()
    labels = re.findall(r'<font color="red3" point-size="9">(.*?)</font>', mg.draw(loss).source)
    weight, bias = model[0].weight.grad, model[0].bias.grad
    assert f"(6, 1, 5, 5) ‖{np.linalg.norm(weight):.4g}‖ = X * dL/dO<br/>(upstream ‖" in " ".join(labels)
    assert f"(6,) ‖{np.linalg.norm(bias):.4g}‖ = Σ dL/dO<br/>(upstream ‖" in " ".join(labels)
    rules = [label for label in labels if " = " in label and not label.startswith("grad")]
    assert len(rules) > 15 and all(re.match(r"\(\d+(, \d+)*,?\) ‖|\[|-?\d", label) for label in rules), rules


def test_a_drawing_without_gradients_says_how_to_get_them():
    model, _, loss = lenet_forward()
    assert "no gradients yet (call backward() to see the gradient flow)" in title_text(mg.draw(loss))
    with mg.core.engine.recording(False):
        loss.backward()  # .grad is filled, nothing recorded, the graph freed: backward() again would fail
    assert model[0].weight.grad is not None
    title = title_text(mg.draw(loss))
    assert "no gradients yet" not in title
    assert "recorded nothing (it ran under recording(False)) and freed its saved arrays" in title
    assert "run the forward again and call backward() with recording on" in title
    with pytest.raises(mg.core.GraphFreedError):
        loss.backward()


def test_a_drawing_after_another_tensors_backward_says_so():
    _, logits, loss = lenet_forward()
    logits.sum().backward()  # reaches the logits and below, not the loss; frees the graph
    title = title_text(mg.draw(loss))
    assert "no gradients yet" not in title
    assert "the last backward() started from another tensor and reached this graph only up to linear (2, 10)" in title
    assert "it freed the saved arrays, so run the forward again and call backward() on this tensor" in title
    _, logits, loss = lenet_forward()
    logits.sum().backward(retain_graph=True)  # the graph kept: backward() from the loss still works
    title = title_text(mg.draw(loss))
    assert "call backward() on this tensor to draw its gradients (it adds to .grad: zero it first)" in title
    loss.backward()
    assert "downstream = local × upstream" in title_text(mg.draw(loss))


# --- folding ----------------------------------------------------------------------------------------------


def test_a_resnet_with_two_identical_blocks_per_stage_folds_and_unfolds():
    mg.manual_seed(0)
    net = mg.models.resnet(blocks=(2, 2, 2))
    loss = F.cross_entropy(net(Tensor(np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32))),
                           np.array([1, 2]))
    loss.backward()
    folded = mg.draw(loss, depth=3).source
    assert "layers.0.0–1: 2 × BasicBlock" in folded  # stage 0: two identical 16 → 16 blocks
    assert "layers.1.0: BasicBlock(16, 32, s=2)" in folded  # stage 1's blocks differ: not folded
    assert "layers.1.1: BasicBlock(32, 32)" in folded
    assert re.search(r"grad \(2, 16, 8, 8\) ‖[\d.]+‖", folded)  # the gradient entering the folded run
    unfolded = mg.draw(loss, depth=3, fold=False).source
    assert "layers.0.0–1" not in unfolded
    assert "layers.0.0: BasicBlock(16, 16)" in unfolded and "layers.0.1: BasicBlock(16, 16)" in unfolded


# --- options and bad input --------------------------------------------------------------------------------


def test_direction_defaults_and_choices():
    _, loss = lenet_step()
    assert "rankdir=TB" in mg.draw(loss).source
    assert "rankdir=LR" in mg.draw(loss, rankdir="LR").source
    f, _ = mg.lectures.simple()
    assert "rankdir=LR" in mg.draw(f).source


@pytest.mark.parametrize("kwargs, error, match", [
    ({"depth": -1}, ValueError, "depth must be None"),
    ({"depth": 1.5}, ValueError, "depth must be None"),
    ({"rankdir": "XY"}, ValueError, "rankdir must be one of 'TB', 'LR', 'BT', 'RL'"),
    ({"fold": "yes"}, TypeError, "fold must be True or False"),
])
def test_bad_options_are_clear_errors(kwargs, error, match):
    f, _ = mg.lectures.simple()
    with pytest.raises(error, match=match):
        mg.draw(f, **kwargs)


def test_fold_and_depth_on_a_graph_without_modules_draw_it_whole():
    f, _ = mg.lectures.neuron_gates()
    assert mg.draw(f, fold=True).source == mg.draw(f).source
    assert mg.draw(f, depth=1).source.count("->") == mg.draw(f).source.count("->")


@pytest.mark.parametrize("name", ["<b>x</b>", "trail\\", "a\\Nb\\G", 'q"uote'])
def test_module_names_graphviz_treats_specially_draw_literally(name, program):
    net = nn.Sequential()
    net.add_module(name, nn.Linear(3, 2))
    y = net(Tensor(np.ones((1, 3), np.float32))).sum()
    y.backward()
    for depth in (None, 1):
        _, _, svg = svg_size(mg.draw(y, depth=depth))
        assert "Linear(3, 2)" in svg
    shown = html.unescape(svg_size(mg.draw(y, depth=1))[2])
    assert f"{name}: Linear(3, 2)" in shown  # literally: no markup, no \N replaced by a node's name


def test_control_characters_in_names_are_drawn_visibly(program):
    import xml.etree.ElementTree as ET

    controls = [chr(c) for c in [*range(1, 0x20), 0x7f]]  # all of C0 but NUL (refused, below), and DEL
    net = nn.Sequential()
    for k, ch in enumerate(controls):
        net.add_module(f"m{k}{ch}x", nn.Linear(2, 2))
        getattr(net, f"m{k}{ch}x").weight.label = f"w{k}{ch}y"
    y = net(Tensor(np.ones((1, 2), np.float32))).sum()
    y.backward()
    for depth in (None, 1):
        svg = mg.draw(y, depth=depth).pipe(format="svg").decode()  # was: CalledProcessError, not well-formed
        texts = " ".join(t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))
        for k, ch in enumerate(controls):
            if ch == "\n":
                continue  # a line break: drawn as one
            written = repr(ch)[1:-1]  # as Python writes it: \x01, \r, \t (graphviz drops a tab), \x7f
            assert f"m{k}{written}x" in texts, (depth, written)
            if depth is None:
                assert f"w{k}{written}y" in texts, written


def test_a_nul_character_in_a_name_is_refused_with_a_clear_error():
    net = nn.Sequential()
    net.add_module("a\x00b", nn.Linear(3, 2))
    y = net(Tensor(np.ones((1, 3), np.float32))).sum()
    with pytest.raises(ValueError, match="contains a NUL character, which graphviz cannot draw"):
        mg.draw(y).source
    with pytest.raises(ValueError, match="contains a NUL character"):
        mg.draw(mg.Value(1.0, label="x\x00") * 2)
