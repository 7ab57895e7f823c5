"""Pictures of the graph: graphviz drawings (``draw``), the HTML backprop stepper, and where to find a ``dot`` program."""
from .graph import draw
from .render import Diagram, DotNotFound, find_dot
from .stepper import stepper

__all__ = ["draw", "stepper", "Diagram", "DotNotFound", "find_dot"]
