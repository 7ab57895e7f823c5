"""Drawing the steps of a create_graph pass."""
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
