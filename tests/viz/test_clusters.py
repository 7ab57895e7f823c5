"""Drawing real models: module clusters, collapsing by depth, the node budget, gradient colours, saved arrays."""
import re
import time

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.viz.grad_scale import GRAD_BANDS, grad_color


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
        self.conv2 = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return (self.conv2(self.conv1(x).relu()) + x).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Sequential(Block(), Block())
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(self.layer1(x).flatten(1))


def model_and_loss(retain=True):
    mg.manual_seed(0)
    net = Net()
    loss = mg.nn.functional.cross_entropy(net(Tensor(np.random.default_rng(0).standard_normal((2, 2, 4, 4)))),
                                          np.array([0, 2]))
    loss.backward(retain_graph=retain)
    return net, loss


def clusters(source):
    """The module paths of the clusters, from their titles ``path: Type(args) → shape`` (each cluster's first node)."""
    return set(re.findall(r'subgraph cluster_\d+ \{\s*graph \[[^\]]*\]\s*t\d+ \[label=<([^:<>]+):', source))


def boxes(source):
    """The titles of the collapsed boxes."""
    return set(re.findall(r'\[label=<<b>([^<]+)</b><br/><font point-size="9">', source))


def test_gates_made_inside_a_module_are_drawn_in_its_cluster():
    _, loss = model_and_loss()
    src = mg.draw(loss).source
    assert {"layer1", "layer1.0", "layer1.0.conv1", "layer1.1.conv2", "fc"} <= clusters(src)
    # titled by what the module is, over what it hands on
    assert 'layer1.0.conv1: Conv2d(2, 2, k=3, p=1)<br align="left"/>→ (2, 2, 4, 4)' in src
    assert "<b>layer1.0.conv1.weight</b>" in src and "(2, 2, 3, 3) float64" not in src  # float32 parameters
    assert "(2, 2, 3, 3) float32" in src


def test_depth_collapses_modules_into_boxes_and_keeps_edges_between_them():
    _, loss = model_and_loss()
    full, collapsed = mg.draw(loss).source, mg.draw(loss, depth=1).source
    assert full.count("->") > collapsed.count("->")
    assert boxes(collapsed) == {"layer1: Sequential(2 × Block)", "fc: Linear(32, 3)"}
    assert "→ (2, 2, 4, 4) · 152 parameters · 10 gates" in collapsed and "→ (2, 3) · 99 parameters · 1 gate" in collapsed
    # the edges between the boxes survive (through the flatten gate Net.forward makes between them),
    # labelled with the shape and norm of the gradient that crosses them
    assert re.search(r'<font color="red3" point-size="9">grad \(2, 2, 4, 4\) ‖[\d.]+‖</font>', collapsed)
    assert re.search(r'<font color="red3" point-size="9">grad \(2, 32\) ‖[\d.]+‖</font>', collapsed)
    depth2 = mg.draw(loss, depth=2, fold=False).source
    assert boxes(depth2) == {"layer1.0: Block", "layer1.1: Block"}  # fc is one level deep: drawn in its cluster
    assert "fc" in clusters(depth2)
    assert boxes(mg.draw(loss, depth=2).source) == {"layer1.0–1: 2 × Block"}  # identical neighbours fold


def test_above_the_budget_the_drawing_collapses_and_says_so():
    _, loss = model_and_loss()
    src = mg.draw(loss, max_nodes=40).source.replace("<br/>", " ")  # the title's lines, wrapped to the drawing
    assert "collapsed to module depth" in src and "over the drawing budget of 40" in src


def test_a_huge_chain_is_cut_at_the_budget_quickly():
    x = mg.Value(0.1)
    y = x
    for _ in range(20_000):
        y = y.tanh()
    start = time.perf_counter()
    d = mg.draw(y)
    assert time.perf_counter() - start < 5
    title = d.source.split("\n\t")[1].replace("<br/>", " ")  # the graph's label, its lines wrapped to the drawing
    assert "earlier nodes are not drawn" in title and re.search(r"showing the 1\d nodes nearest the root", title)
    assert d.source.count("->") < 600
    d.pipe(format="svg")  # graphviz lays it out


def test_a_depth_that_does_not_fit_the_budget_is_cut_too():
    # no modules here, so depth=1 collapses nothing: the budget still applies
    y = mg.Value(0.1)
    for _ in range(5_000):
        y = y.tanh()
    d = mg.draw(y, depth=1)
    assert "earlier nodes are not drawn" in d.source.replace("<br/>", " ")
    assert d.source.count("->") < 600


def test_gradient_colours_follow_a_log_scale_with_a_legend():
    assert grad_color(np.full(10, 1e-7)) == GRAD_BANDS[0][1]
    assert grad_color(np.full(10, 0.1)) == GRAD_BANDS[2][1]
    assert grad_color(np.full(10, 1e3)) == GRAD_BANDS[-1][1]
    assert grad_color(np.array([np.nan])) == GRAD_BANDS[-1][1]
    _, loss = model_and_loss()
    src = mg.draw(loss, grad_colors=True).source
    assert "gradient size (RMS, log scale)" in src and "vanishing" in src and "exploding" in src


def test_after_a_plain_backward_the_title_says_the_values_were_freed():
    _, loss = model_and_loss(retain=False)  # a scalar loss: its own gradient is kept whole, the others' norms only
    assert "their values were freed; backward(retain_graph=True) keeps them" in mg.draw(loss).source
    _, kept = model_and_loss(retain=True)
    assert "freed" not in mg.draw(kept).source.split("node [")[0]  # the title


def test_saved_arrays_on_request():
    _, loss = model_and_loss()
    assert "saved: (2, 2, 4, 4)" in mg.draw(loss, show_saved=True).source
    _, freed = model_and_loss(retain=False)
    assert "saved: freed" in mg.draw(freed, show_saved=True).source


def test_budget_must_be_sensible():
    _, loss = model_and_loss()
    with pytest.raises(ValueError, match="max_nodes must be at least 2"):
        mg.draw(loss, max_nodes=1)


# --- one module's inside: within= -------------------------------------------------------------------


def test_within_draws_one_modules_inside_its_children_boxed_its_surroundings_dashed():
    _, loss = model_and_loss()
    d = mg.draw(loss, within="layer1.0")
    src = d.source
    assert clusters(src) == set()  # the drawing is the module's inside: no clusters around it
    assert boxes(src) == {"layer1.0.conv1: Conv2d(2, 2, k=3, p=1)", "layer1.0.conv2: Conv2d(2, 2, k=3, p=1)"}
    assert src.count("<b>relu</b>") == 2 and src.count("<b>add</b>") == 1  # Block.forward's own gates
    assert "from <b>the input</b>" in src  # what feeds it (the block's input x, used by conv1 and the skip)
    assert "to <b>conv2d in layer1.1.conv1</b>" in src and "to <b>add in layer1.1</b>" in src  # what uses its output
    assert "fc" not in src and "cross_entropy" not in src  # nothing else of the graph
    assert "inside layer1.0: Block → (2, 2, 4, 4)" in src
    top = mg.draw(loss, within="").source  # the top level: as depth=1
    assert boxes(top) == {"layer1: Sequential(2 × Block)", "fc: Linear(32, 3)"} and "the top level" in top


def test_within_accepts_only_a_module_of_the_graph():
    _, loss = model_and_loss()
    with pytest.raises(ValueError, match=r"no node of this graph was made inside a module 'layer9'; its top-level "
                                         r"modules are 'fc', 'layer1'"):
        mg.draw(loss, within="layer9")
    with pytest.raises(TypeError, match="within must be a module path"):
        mg.draw(loss, within=1)


def test_drawn_elements_have_stable_svg_ids():
    _, loss = model_and_loss()
    d = mg.draw(loss, depth=1)
    svg = d.pipe(format="svg").decode()
    for element in d.elements:  # every node, box and labelled edge is addressable in the SVG by its id
        assert f'id="{element}"' in svg, element
    kinds = {kind for kind, _ in d.elements.values()}
    assert kinds == {"node", "box", "edge"}
    assert d.placed[loss] == f"v{loss._id}"
