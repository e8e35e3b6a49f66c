"""Result records and files: ``load``, ``Results``, ``Record``, ``compare``.

Pure Python (json + numpy): works on result files without the compiled extension.
The schema is docs/results-schema.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

SCHEMA = "lwbench.results"
SCHEMA_VERSION = 1

#: The keys that identify a scenario point (two records with equal keys measure the same thing).
IDENTITY = ("stack", "scenario", "api", "primitive", "threading_mode", "input_mode", "mailbox_kind",
            "lock_kind", "payload_bytes", "app_threads", "pinning", "variant")


class Record(dict):
    """One scenario point (a dict in the file's layout) with a few conveniences."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def key(self) -> tuple:
        return tuple(self.get(k) for k in IDENTITY)

    @property
    def p50_ns(self) -> float:
        return float(self["latency_ns"]["p50"])

    def percentile_ns(self, name: str) -> float:
        """'p50', 'p90', 'p99', 'p999', 'max', 'min' or 'mean'."""
        return float(self["latency_ns"][name])

    def counter_per_op(self, name: str):
        """Per-op value of a perf counter, or None when it was not available (never 0 for missing)."""
        c = (self.get("counters") or {}).get(name)
        return None if c is None else c.get("per_op")

    @property
    def label(self) -> str:
        parts = [self.get("stack", "?"), self.get("scenario", "?")]
        for k in ("primitive", "api", "threading_mode", "input_mode", "mailbox_kind", "lock_kind"):
            if self.get(k):
                parts.append(str(self[k]))
        parts += [f"{self.get('payload_bytes')}B", f"t{self.get('app_threads')}", str(self.get("pinning"))]
        return "/".join(parts)


@dataclass
class Results:
    """Records plus the environment and notes of the document they came from."""

    records: list
    environment: dict
    notes: list
    samples: list | None = None  # numpy arrays (ns/op) per record, when measured from Python
    path: Path | None = None
    report: str | None = None

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def find(self, **match) -> list:
        """Records whose fields equal every given value, e.g. find(api='socket', pinning='same_core')."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def table(self) -> str:
        rows = [f"{'scenario point':<80} {'p50':>10} {'p99':>10} {'ctxsw/op':>9}"]
        for r in self.records:
            cs = r.counter_per_op("context_switches")
            rows.append(f"{r.label:<80} {_fmt_ns(r.p50_ns):>10} {_fmt_ns(r.percentile_ns('p99')):>10} "
                        f"{'n/a' if cs is None else f'{cs:.2f}':>9}")
        return "\n".join(rows)

    def save(self, directory: str | Path, label: str = "python", command: str = "lwbench.run(...)") -> Path:
        """Write a NEW result file (atomically, never overwriting) and its CSV; returns the JSON path."""
        from . import _ext

        path = _ext.load().save_results(str(directory), label, command, [dict(r) for r in self.records],
                                         list(self.notes))
        self.path = Path(path)
        return self.path


def _fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def load(path: str | Path) -> Results:
    """Read a result file written by the harness. Raises ValueError for anything else."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not an lwbench result file (schema != {SCHEMA!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: unsupported schema_version {doc.get('schema_version')!r}")
    return Results(records=[Record(r) for r in doc.get("records", [])], environment=doc.get("environment", {}),
                   notes=list(doc.get("notes", [])), path=path)


@dataclass
class Comparison:
    """One scenario point present in both result sets."""

    record_a: Record
    record_b: Record

    @property
    def ratio(self) -> float:
        """p50 of b / p50 of a (> 1: b is slower)."""
        a = self.record_a.p50_ns
        return self.record_b.p50_ns / a if a > 0 else math.nan

    @property
    def noise(self) -> float:
        """Combined relative spread (MAD/median) of the two records: ratios inside 1 ± noise are not a difference."""
        ra = (self.record_a.get("spread") or {}).get("rel_mad", 0.0)
        rb = (self.record_b.get("spread") or {}).get("rel_mad", 0.0)
        return math.hypot(ra, rb)

    @property
    def significant(self) -> bool:
        return abs(self.ratio - 1.0) > 2 * self.noise

    def __str__(self) -> str:
        sig = "" if self.significant else "  (within noise)"
        return (f"{self.record_a.label:<80} {_fmt_ns(self.record_a.p50_ns):>10} -> "
                f"{_fmt_ns(self.record_b.p50_ns):>10}  {self.ratio:5.2f}x ±{self.noise * 100:.0f}%{sig}")


def _records(x) -> list:
    if isinstance(x, (str, Path)):
        return load(x).records
    if isinstance(x, Results):
        return x.records
    return [r if isinstance(r, Record) else Record(r) for r in x]


def compare(a, b, ignore: Sequence[str] = ()) -> list:
    """Match the records of two result sets (Results, paths or record lists) by their
    identity (IDENTITY minus `ignore`, e.g. ignore=('stack',) to put our stack next to
    real lwIP) and return a Comparison per match: b's p50 relative to a's."""
    keys = [k for k in IDENTITY if k not in ignore]
    index = {}
    for r in _records(a):
        index.setdefault(tuple(r.get(k) for k in keys), r)
    out = []
    for r in _records(b):
        match = index.get(tuple(r.get(k) for k in keys))
        if match is not None and match is not r:
            out.append(Comparison(match, r))
    return out


def samples_summary(samples: Iterable[float]) -> dict:
    """Percentiles of raw samples (ns/op), computed like the harness (linear interpolation)."""
    arr = np.sort(np.asarray(list(samples) if not isinstance(samples, np.ndarray) else samples, dtype=float))
    if arr.size == 0:
        return {}
    q = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999}
    out = {k: float(np.quantile(arr, v)) for k, v in q.items()}
    out.update(min=float(arr[0]), max=float(arr[-1]), mean=float(arr.mean()), count=int(arr.size))
    return out
