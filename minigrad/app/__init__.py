"""The application on top of the library: the ``minigrad`` command and what it runs.

    cli.py       argument parsing: ``minigrad demo``, ``minigrad train``, ``minigrad step``
    jobs.py      the demo and the training job
    lectures.py  the lectures' worked examples as graphs (used by the demo, the examples and the tests)
"""
