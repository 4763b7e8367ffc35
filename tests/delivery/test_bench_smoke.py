"""`python -m bench --quick` runs end to end and prints its table (the numbers are not judged here:
benchmarks are not timed tests; `make bench` runs the real sizes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_every_measurement():
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| measurement | Mend | bare Bolt | ratio |")
    measured = "\n".join(rows[1:])
    for what in ("ack p50", "ack p99", "end-to-end throughput", "fan-out: 50 check-ins", "standup render",
                 "RSS after the load"):
        assert what in measured, what
    assert "51 delivered, 0 repeated" in measured
    assert "Block Kit limits kept" in measured
