"""Pictures of the graph: graphviz drawings (``draw``), the HTML backprop stepper and explorer (``explore``),
where to find a ``dot`` program, and matplotlib diagnostics (``plot_grad_flow``, ``grad_cam`` /
``plot_grad_cam``; matplotlib is imported only when a plot is made)."""
from .explorer import Explorer, explore
from .gradcam import grad_cam, plot_grad_cam
from .graph import draw
from .plots import plot_grad_flow
from .render import Diagram, DotNotFound, find_dot
from .stepper import stepper

__all__ = ["Diagram", "DotNotFound", "Explorer", "draw", "explore", "find_dot", "grad_cam", "plot_grad_cam",
           "plot_grad_flow", "stepper"]
