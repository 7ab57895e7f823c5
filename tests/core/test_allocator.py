"""minigrad/allocator.py: glibc's thresholds are fixed at import, unless the environment says otherwise."""
import os
import platform
import subprocess
import sys

import pytest

from minigrad import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# 10 arrays of 4 MiB allocated, then all freed, 5 times over: the page faults per round
ROUNDS = """
import resource, numpy as np, minigrad
def step():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(10)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(minigrad.core.allocator.status())
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
"""


def faults_per_round(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "MINIGRAD_MALLOC", "GLIBC_TUNABLES"))}
    out = subprocess.run([sys.executable, "-c", ROUNDS], capture_output=True, text=True, check=True,
                         env={**clean, **env}).stdout.splitlines()
    return out[0], float(out[1])


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc's")
def test_a_steps_freed_memory_is_reused_instead_of_mapped_afresh():
    status, tuned = faults_per_round()
    assert status.startswith("tuned")
    assert tuned < 100  # 40 MiB of arrays would be 10,240 first-touch faults
    status, default = faults_per_round(MINIGRAD_MALLOC="default")
    assert "defaults" in status
    assert default > 2000  # glibc hands the 40 MiB back to the system each round and faults it in again


@pytest.mark.parametrize("env, says", [
    ({"MINIGRAD_MALLOC": "default"}, "glibc's defaults"),
    ({"MALLOC_TRIM_THRESHOLD_": "1000"}, "MALLOC_TRIM_THRESHOLD_"),
    ({"MALLOC_MMAP_THRESHOLD_": "1000"}, "MALLOC_MMAP_THRESHOLD_"),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000"}, "GLIBC_TUNABLES"),
])
def test_the_environment_wins(env, says):
    before = allocator.status()
    try:
        assert says in allocator.tune(env)
        assert not allocator.status().startswith("tuned")
    finally:
        allocator._status = before


def test_a_misspelt_setting_is_an_error_that_names_the_choices():
    with pytest.raises(ValueError, match="MINIGRAD_MALLOC='off'.*'tuned'.*'default'"):
        allocator.tune({"MINIGRAD_MALLOC": "off"})
