"""How much CPU other processes took during the run: the figures are only as good as the quiet."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

NOISY_SHARE = 0.10  # other processes' share of the CPU above which the figures are suspect


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _own_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


@dataclass(frozen=True)
class CpuMeter:
    """System-wide busy CPU time against the benchmark's own, from start() on."""

    busy: float
    own: float
    wall: float

    @classmethod
    def start(cls) -> CpuMeter:
        return cls(_busy_seconds(), _own_seconds(), time.monotonic())

    def others(self, subprocess_seconds: float) -> tuple[float, float]:
        """(CPU seconds other processes used, the CPU seconds the machine had) since start()."""
        busy = _busy_seconds() - self.busy
        ours = _own_seconds() - self.own + subprocess_seconds
        available = (time.monotonic() - self.wall) * (os.cpu_count() or 1)
        return max(0.0, busy - ours), available

    def describe(self, subprocess_seconds: float) -> tuple[str, bool]:
        """A line for the results, and whether other load makes the figures suspect."""
        others, available = self.others(subprocess_seconds)
        share = others / available if available else 0.0
        line = f"{others:.0f} CPU-s of {available:.0f} available ({share:.0%})"
        return line, share > NOISY_SHARE
