"""Pictures of the graph: graphviz drawings (``draw``) and where to find a ``dot`` program."""
from .graph import draw
from .render import Diagram, DotNotFound, find_dot

__all__ = ["draw", "Diagram", "DotNotFound", "find_dot"]
