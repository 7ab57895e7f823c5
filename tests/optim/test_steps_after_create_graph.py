"""After backward(create_graph=True) .grad is a Tensor with a graph; every optimiser steps with its values, as PyTorch.

Each optimiser takes the same three steps twice, from the same weights: once after plain backward(), once after
backward(create_graph=True) (a gradient penalty's usual loop); the weights and the state must agree exactly.
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, optim

OPTIMISERS = {
    "SGD momentum nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "SGD momentum dampening": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
    "Adam amsgrad": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
    "RMSprop centered momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1),
}


def steps(make, create_graph):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    opt = make([w, b])
    for _ in range(3):
        opt.zero_grad(set_to_none=False) if w.grad is not None else opt.zero_grad()
        (mg.nn.functional.linear(x, w, b).tanh() ** 2).sum().backward(create_graph=create_graph)
        assert isinstance(w.grad, Tensor) == create_graph
        opt.step()
    return [w.data, b.data], opt.state


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_a_step_after_create_graph_is_the_step_after_plain_backward(name):
    plain, plain_state = steps(OPTIMISERS[name], create_graph=False)
    graph, graph_state = steps(OPTIMISERS[name], create_graph=True)
    for a, b in zip(plain, graph):
        np.testing.assert_array_equal(a, b)
    for p_state, g_state in zip(plain_state.values(), graph_state.values()):
        assert p_state.keys() == g_state.keys()
        for key in p_state:
            assert isinstance(g_state[key], type(p_state[key]))  # arrays and counts, never Tensors
            np.testing.assert_array_equal(p_state[key], g_state[key])


def test_zero_grad_keeps_zeros_without_the_graph():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w**3).sum().backward(create_graph=True)
    opt.zero_grad(set_to_none=False)
    assert isinstance(w.grad, np.ndarray) and np.array_equal(w.grad, [0.0, 0.0])
