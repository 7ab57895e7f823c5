"""``python bench/run.py [NAME ...] [--quick] [--threads N]``: the same as ``python -m bench``, run as a file."""
import os
import sys

if __package__ in (None, ""):  # run as a file: make the repository (and so `bench`, `minigrad`) importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
