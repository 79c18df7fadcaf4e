"""bench/dsl.py runs and ends with its JSON figures."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_prints_its_figures_last() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "dsl.py"), "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["entities"] == 200 and figures["deltas"] > 20_000
    # The target is ≤ 3×; leave room for a busy CI machine, but catch quadratic work.
    assert 0 < figures["incremental_over_full"] < 4.5
    assert figures["growth_at_2x"] < 3.2
