"""The benchmark scripts' memory sampling (bench/): what the benchmark docs' peak RSS figures rest on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_pipeline  # noqa: E402
import rss_timeline  # noqa: E402

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def test_the_peak_of_a_process_tree_counts_every_process_in_it() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"])
    try:
        for _ in range(100):  # until the child holds its 64 MB
            tree = rss_timeline.tree_rss(os.getpid())
            if child.pid in tree and tree[child.pid][0] > 64 << 20:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert tree[child.pid][1] == os.getpid()  # (bytes, parent pid)
        total = bench_pipeline._tree_rss(os.getpid())
        assert total > tree[os.getpid()][0] + (64 << 20)
    finally:
        child.kill()
        child.wait()
