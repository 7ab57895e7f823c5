"""Drawing: values and gradients on nodes, downstream = local × upstream on edges, copy gates, frames."""
import re

import graphviz
import pytest

from minigrad import Value, draw, lectures


def edge_labels(source):
    return re.findall(r'<font color="red3"[^>]*>(.*?)</font>', source)


def test_before_backward_only_the_forward_pass_is_drawn():
    f, _ = lectures.simple()
    src = draw(f).source
    assert isinstance(draw(f), graphviz.Digraph)
    assert "-12.0" in src and "-2.0" in src and "5.0" in src
    assert ">grad " not in src
    assert "rankdir=LR" in src


def test_after_backward_nodes_carry_grads_and_edges_downstream_local_upstream():
    f, _ = lectures.simple()
    f.backward()
    src = draw(f).source
    labels = edge_labels(src)
    # the mul gate: dL/dq = local z (-4) x upstream 1; dL/dz = local q (3) x upstream 1
    assert "-4.0<br/>= -4.0 × 1.0" in labels
    assert "3.0<br/>= 3.0 × 1.0" in labels
    # the add gate distributes -4 to x and y
    assert labels.count("-4.0<br/>= 1.0 × -4.0") == 2
    assert "grad -4.0" in labels and "grad 3.0" in labels and "grad 1.0" in labels
    # each value and gate appears once: 5 values, 2 gates
    assert len(re.findall(r"^\s*v\d+ \[", src, re.M)) == 5
    assert len(re.findall(r"^\s*g\d+ \[", src, re.M)) == 2


def test_fan_out_is_drawn_as_a_copy_gate_with_the_sum():
    x = Value(3.0, "x")
    y = x * x
    y.backward()
    src = draw(y).source
    assert len(re.findall(r"^\s*c\d+ \[", src, re.M)) == 1
    assert "6.0 = 3.0 + 3.0" in edge_labels(src)
    # two edges from the copy gate into the mul gate
    copy_id = re.search(r"^\s*(c\d+) \[", src, re.M).group(1)
    assert len(re.findall(rf"^\s*{copy_id} -> g\d+", src, re.M)) == 2


def test_frame_of_a_step_highlights_its_gate_and_shows_only_known_gradients():
    f, v = lectures.simple()
    src = draw(f, step=0).source  # just after the mul step
    assert src.count("fillcolor=orange") == 1
    labels = edge_labels(src)
    assert "grad -4.0" in labels  # q is known
    assert "grad 3.0" in labels  # z is known
    assert "-4.0<br/>= 1.0 × -4.0" not in labels  # the add gate has not run
    assert v["x"].grad == 0.0  # drawing a frame changes no gradient
    last = draw(f, step=-1).source
    assert edge_labels(last).count("grad -4.0") == 3  # q, x and y


def test_step_draw_from_the_stream():
    f, _ = lectures.simple()
    steps = list(f.backward_steps())
    assert steps[1].draw().source == draw(f, step=1).source


def test_step_out_of_range_is_a_clear_error():
    f, _ = lectures.simple()
    with pytest.raises(IndexError, match="step 5 is out of range: this graph's backprop has 2 steps"):
        draw(f, step=5)


def test_draw_rejects_what_is_not_a_node():
    with pytest.raises(TypeError, match="draw: expected a minigrad Value or Tensor"):
        draw(3.0)


def test_drawing_a_tensor_with_no_graph_is_a_clear_error():
    import minigrad as mg

    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2
    with pytest.raises(ValueError, match=r"draw: this tensor \(2,\) has no graph to draw: it was computed under no_grad"):
        draw(y)
    assert "digraph" in draw(x).source  # a leaf that requires grad is a (one-node) graph


def test_labels_are_escaped():
    a = Value(1.0, "a<b & c>")
    src = draw(a * 2).source
    assert "a&lt;b &amp; c&gt;" in src


def test_thirty_node_graph_is_left_to_right_and_renders():
    x = Value(0.5, "x")
    y = x
    for i in range(15):
        y = (y * 1.1).tanh() + x
    y.backward()
    d = draw(y)
    assert d.source.count("->") > 30
    svg = d.pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg


# --- tensors ----------------------------------------------------------------------------------


def tensor_graph():
    import numpy as np

    from minigrad import Tensor

    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, label="x")
    w = Tensor(np.ones((3, 40)), requires_grad=True, label="W")
    loss = (x @ w).relu().mean()
    loss.label = "loss"
    return loss, x, w


def test_tensor_nodes_show_label_shape_dtype_and_edges_the_rule():
    loss, x, w = tensor_graph()
    src = draw(loss).source
    assert "<b>x</b>" in src and "(2, 3) float64" in src and "(3, 40) float64" in src
    assert "grad" not in "".join(edge_labels(src))
    assert "made by matmul: dL/dX = dL/dY·Wᵀ, dL/dW = Xᵀ·dL/dY" in src  # the rule, in the node's tooltip


def test_tensor_drawing_after_retained_backward_shows_gradients_and_norms():
    import numpy as np

    loss, x, w = tensor_graph()
    loss.backward(retain_graph=True)
    labels = edge_labels(draw(loss).source)
    assert any(l.startswith("grad [") for l in labels)  # x's gradient: 6 values, shown row by row
    w_norm = np.linalg.norm(w.grad)
    assert f"grad ‖{w_norm:.4g}‖" in labels  # W's gradient: 120 values, shown as its norm (the node has the shape)
    assert any("Xᵀ·dL/dY" in l for l in labels)  # the matmul rule on W's edge


def test_tensor_frames_after_a_plain_backward_show_what_it_recorded():
    import numpy as np

    from minigrad.core import engine

    loss, x, w = tensor_graph()
    assert 'bgcolor="orange"' in draw(loss, step=1).source  # before any backward: a dry run
    loss.backward()  # frees the saved arrays; the records keep each gradient's shape and norm
    labels = edge_labels(draw(loss, step=2).source)
    up = np.linalg.norm(np.full((2, 40), 1 / 80))
    assert f"(3, 40) ‖{np.linalg.norm(w.grad):.4g}‖ = Xᵀ·dL/dY<br/>(upstream ‖{up:.4g}‖)" in labels  # shape and norm
    loss, _, _ = tensor_graph()
    with engine.recording(False):
        loss.backward()  # nothing recorded and nothing saved: no frame can be drawn
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw(loss, step=1)


def test_drawing_a_frame_leaves_the_graph_as_it_was():
    f, v = lectures.simple()
    draw(f, step=0)
    assert ">grad " not in draw(f).source  # still the forward pass only: the dry run put everything back
    f.backward()
    before = draw(f).source
    draw(f, step=0)
    assert draw(f).source == before and v["x"].grad == -4.0


def elementwise_graph():
    import numpy as np

    from minigrad import Tensor

    a = Tensor(np.linspace(-1.0, 1.0, 25).reshape(5, 5), requires_grad=True, label="a")
    b = Tensor(np.full((5, 5), 2.0), requires_grad=True, label="b")
    y = (a * b).exp().relu()
    y.backward(np.ones((5, 5)), retain_graph=True)
    return y, a, b


def test_elementwise_tensor_edges_show_the_rule_not_just_a_shape():
    import numpy as np

    y, a, b = elementwise_graph()
    labels = edge_labels(draw(y).source)
    e = np.exp(a.data * b.data)  # exp's output: its own local gradient, and the mul gate's upstream

    def norm(g):
        return f"‖{np.linalg.norm(g):.4g}‖"

    # downstream = local × upstream: the local is the rule from the gate's formula (⊙ drawn as ×)
    # each edge's gradient by its shape and norm, the upstream by its norm (its shape is the node's)
    assert f"(5, 5) {norm(e)} = eˣ × ‖5.0‖" in labels
    assert f"(5, 5) {norm(b.data * e)} = b × {norm(e)}" in labels  # mul swaps: dL/da = b ⊙ dL/dy
    assert f"(5, 5) {norm(a.data * e)} = a × {norm(e)}" in labels
    assert "(5, 5) ‖5.0‖ = [x &gt; 0] × ‖5.0‖" in labels  # relu routes: its local gradient is 1 where x > 0, else 0
    assert not any("local(" in l for l in labels)


def test_tensor_nodes_show_the_gradients_shape_and_norm_or_its_values():
    import numpy as np

    from minigrad import Tensor

    y, a, b = elementwise_graph()
    labels = edge_labels(draw(y).source)
    assert f"grad ‖{np.linalg.norm(a.grad):.4g}‖" in labels  # the node's second line has the shape, (5, 5)
    assert f"grad ‖{np.linalg.norm(b.grad):.4g}‖" in labels
    small = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="s")
    out = small.exp().sum()
    out.backward(retain_graph=True)
    labels = edge_labels(draw(out).source)
    assert "grad [2.718, 7.389]<br/>[20.09, 54.6]" in labels  # 4 elements: the values, row by row
    assert f"(2, 2) ‖{np.linalg.norm(np.exp([1, 2, 3, 4])):.4g}‖ = eˣ × ‖2.0‖" in labels  # an edge: past 3 elements,
    # the shape and norm
    pair = Tensor([1.0, 2.0], requires_grad=True, label="p")
    out = pair.exp().sum()
    out.backward(retain_graph=True)
    assert "[2.718, 7.389] = [2.718, 7.389] × [1.0, 1.0]" in edge_labels(draw(out).source)


def test_tensor_labels_render_to_svg():
    y, _, _ = elementwise_graph()
    svg = draw(y).pipe(format="svg").decode()
    assert "</svg>" in svg
    assert "eˣ × ‖5.0‖" in svg and "grad ‖5.0‖" in svg
    assert "[x &gt; 0]" in svg  # the escaped ">" came through as text
