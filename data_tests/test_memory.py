"""lib/memory.py: a long-lived process gives back what a finished step freed."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's malloc_trim")

_SCRIPT = """
import gc
import numpy as np
import pandas as pd
from dagster_project.lib.memory import release_unused_memory

def rss_mb():
    status = open('/proc/self/status').read()
    return int(status.split('VmRSS:')[1].split()[0]) // 1024

frame = pd.DataFrame({"id": [f"customer-{i}-{i * 7}" for i in range(2_000_000)], "n": np.arange(2_000_000)})
del frame
gc.collect()
freed = rss_mb()
release_unused_memory()
print(freed, rss_mb())
"""


def test_release_gives_back_the_pages_of_a_deleted_frame():
    # a frame of 2 M strings (Arrow-backed in pandas 3) stays resident after `del` and a
    # garbage collection: its pages sit in the allocators' free lists until released
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True).stdout
    freed, released = map(int, out.split())
    assert freed - released > 80, (freed, released)
