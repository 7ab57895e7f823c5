"""Data: datasets (the real digits, MNIST IDX files), ``DataLoader`` and augmentations."""
from .datasets import MNIST_FILES, load_digits, load_mnist, read_idx
from .loader import DataLoader
from .transforms import compose, random_flip, random_shift

__all__ = ["load_digits", "load_mnist", "read_idx", "MNIST_FILES", "DataLoader", "random_shift", "random_flip", "compose"]
