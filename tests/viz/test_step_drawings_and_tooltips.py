"""Drawing the steps of a create_graph pass; what tooltips hold in drawings and in the explorer's views."""
import numpy as np


def test_a_step_of_a_create_graph_pass_draws_with_its_values():
    """The live steps of backward(create_graph=True) carry Tensors (and Values): drawn by their values."""
    import minigrad as mg

    x = mg.Tensor(np.array([0.5, 1.0]), requires_grad=True, label="x")
    steps = list((x.tanh() * x).sum().backward_steps(create_graph=True))
    for k in range(len(steps)):
        svg = steps[k].draw().pipe(format="svg").decode()
        assert "<svg" in svg
    v = mg.Value(0.5, label="v")
    scalar = list((v.tanh() * v).backward_steps(create_graph=True))
    assert "<svg" in scalar[-1].draw().pipe(format="svg").decode()


def test_explorer_views_keep_tooltips_to_statistics():
    """The explorer's panel shows a tensor's values; its views' tooltips give the statistics only
    (the values in every view's tooltips made a ResNet-18 page 2.3× bigger and 5× slower to write)."""
    import minigrad as mg
    from minigrad.viz.labels import tooltip

    x = mg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, label="x")
    full, short = tooltip(x, np.ones((3, 4))), tooltip(x, np.ones((3, 4)), values=False)
    assert "[0, 1, 2, 3]" in full and "[" not in short
    assert short.startswith("x: (3, 4) float") and "value:" in short and "grad:" in short


def test_unnamed_leaves_are_named_by_what_they_are_as_in_the_explorer():
    import minigrad as mg
    from minigrad.viz.labels import node_name

    w = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    x, c = mg.Tensor(np.ones((8, 4))), mg.Tensor(np.float64(2.0))
    p = mg.nn.Parameter(np.ones(3))
    assert [node_name(t) for t in (w, x, c, p)] == ["leaf, requires grad", "data", "constant", "parameter"]
    assert node_name(x @ w.T) == "matmul"
