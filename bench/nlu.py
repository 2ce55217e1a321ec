"""The embedded NLU: training time, model size, memory, load time and parse latency (p50/p99).

Latency is measured on every training and held-out message, in-process, after one warm-up pass.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nlu.engine import train
from nlu.pipeline import DEFAULT_DATA, PROJECT_ROOT
from nlu.trainingdata import load_training_data

ROUNDS = 5
HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "heldout_nlu.yml"

# Run in a fresh interpreter so the figures are those of a process that only loads the model.
_LOAD_PROBE = """
import json, os, sys, time
from pathlib import Path
import nlu

def rss_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

before = rss_mib()
started = time.perf_counter()
model = nlu.open_model(Path(sys.argv[1]))
model.parse_sync("你好")
print(json.dumps({"load_seconds": time.perf_counter() - started, "before": before, "after": rss_mib()}))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        models = Path(scratch) / "models"
        run = train(models)
        print(f"training: {run.examples} examples, {run.seconds:.2f} s")
        print(f"model: {run.path.name}, {run.path.stat().st_size / 1024:.0f} KiB on disk")

        probe = subprocess.run(
            [sys.executable, "-c", _LOAD_PROBE, str(models)],
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_ROOT,
        )
        loaded = json.loads(probe.stdout)
        print(
            f"fresh process: model loaded in {loaded['load_seconds']:.3f} s; "
            f"RSS {loaded['before']:.0f} MiB after `import nlu` -> {loaded['after']:.0f} MiB with the model "
            f"(+{loaded['after'] - loaded['before']:.1f} MiB)"
        )

        interpreter = run.interpreter
        texts = [e.text for e in load_training_data([DEFAULT_DATA, HELD_OUT]).examples]
        for text in texts:
            interpreter.parse_sync(text)
        latencies: list[float] = []
        for _ in range(ROUNDS):
            for text in texts:
                begun = time.perf_counter_ns()
                interpreter.parse_sync(text)
                latencies.append((time.perf_counter_ns() - begun) / 1e6)
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"parse: p50 {statistics.median(ordered):.3f} ms, p99 {p99:.3f} ms, max {ordered[-1]:.3f} ms "
            f"(n={len(ordered)}: {len(texts)} messages x {ROUNDS})"
        )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average while measuring: {load} on {os.cpu_count()} CPUs")
    print("command: .venv/bin/python -m bench nlu")


if __name__ == "__main__":
    main()
