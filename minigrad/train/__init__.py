"""Training: the loop (``fit``, ``evaluate``, ``History``), checkpoints, and the lectures' recipe.

    loop.py        fit / evaluate / History: the one training loop; snapshot: try, then put back
    checkpoint.py  mg.save / mg.load: atomic .npz checkpoints, never pickle
    recipes.py     the recipe's steps 1-3 (initial loss, overfit a small sample, lr_find)
    batches.py     the recipe's data, a pair (x, y) or a DataLoader, as fixed or endless batches
    search.py      steps 4-5: grid and random search, resumable
    curves.py      step 6: validation during training and what the curves say
    multitask.py   several heads, one loss: localisation and auxiliary classifiers
"""
from .checkpoint import load, save
from .loop import History, NonFiniteLossError, accuracy, evaluate, fit, snapshot

__all__ = ["fit", "evaluate", "History", "accuracy", "snapshot", "NonFiniteLossError", "save", "load"]
