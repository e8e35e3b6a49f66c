"""Result records and files: the one reader and the one atomic writer of the Python side.

Pure Python (json + numpy): works on result files without the compiled extension.
The schema is docs/results-schema.md. Everything else that reads result files
(compare, the report page, the plots in plots/, bench/summarize.py's context,
the profiler) goes through `read_document` / `load`, and everything that writes
a file or a folder goes through `write_new_file` / `publish_directory`, which
never replace an existing name.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .formatting import fmt_count, fmt_ns

__all__ = ["SCHEMA", "SCHEMA_VERSION", "IDENTITY", "NotAResultFile", "Record", "Results", "read_document",
           "is_result_document", "read_google_benchmark", "from_document", "load", "samples_summary", "write_new_file", "publish_directory", "publish_run_folder", "THIS_MACHINE", "measured_on"]

SCHEMA = "lwbench.results"
SCHEMA_VERSION = 1

#: The keys that identify a scenario point (two records with equal keys measure the same thing).
IDENTITY = ("stack", "scenario", "api", "primitive", "threading_mode", "input_mode", "mailbox_kind", "sched_policy",
            "lock_kind", "payload_bytes", "app_threads", "pinning", "variant", "netif", "core_work_iterations")


#: What measured_on() says for a record measured on the machine that wrote the file.
THIS_MACHINE = "this machine"


def measured_on(record) -> str:
    """Where a record was measured: THIS_MACHINE, or the emulated target that ran it, e.g.
    "emulated Cortex-M3 (QEMU mps2-an385)" — read from the target's own facts in
    `lwip_options` (target, cpu, board), as the target runner records them. Such a record's
    `pinning` is the host's "none": the target has one core and no host threads to pin."""
    options = record.get("lwip_options") or {}
    if not isinstance(options, dict) or not options.get("target"):
        return THIS_MACHINE
    cpu = options.get("cpu") or options["target"]
    board = f" {options['board']}" if options.get("board") else ""
    return f"emulated {cpu} (QEMU{board})" if options.get("emulator") else f"{cpu} target{board}"


class NotAResultFile(ValueError):
    """The file is JSON but not an lwbench result document (e.g. Google Benchmark output)."""


class Record(dict):
    """One scenario point: a dict in the file's layout, with attribute access and a few conveniences.
    A record from a file older than `sched_policy` reads as "other" (the policy it ran under), one
    older than `core_work_iterations` as 0 (no work was added inside the core)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def key(self) -> tuple:
        """The point's identity (values of IDENTITY, in order)."""
        return tuple(self.get(k) for k in IDENTITY)

    @property
    def p50_ns(self) -> float:
        """Median latency per operation (ns)."""
        return float(self["latency_ns"]["p50"])

    def percentile_ns(self, name: str) -> float:
        """'p50', 'p90', 'p99', 'p999', 'max', 'min' or 'mean' (ns per operation)."""
        return float(self["latency_ns"][name])

    def counter_per_op(self, name: str):
        """Per-op value of a perf counter, or None when it was not available (never 0 for missing)."""
        c = (self.get("counters") or {}).get(name)
        return None if c is None else c.get("per_op")

    @property
    def repetition_medians(self) -> list:
        """The median of each timed repetition (ns), in run order; [] when the file has none."""
        return [float(x) for x in (self.get("repetition_p50_ns") or []) if x is not None]

    def _mode_list(self, key: str) -> list:
        return [(float(m["median_ns"]), float(m["share"])) for m in (self.get(key) or [])
                if isinstance(m, dict) and m.get("median_ns") is not None and m.get("share") is not None]

    @property
    def modes(self) -> list:
        """[(median_ns, share), …] when the repetition medians split into clusters (a bimodal cell:
        its p50 alone describes neither), else []. Read from the record's `modes` when present."""
        return self._mode_list("modes")

    @property
    def sample_modes(self) -> list:
        """[(median_ns, share of samples), …] when the pooled samples split into two modes (a cell
        bimodal within every repetition; docs/results-schema.md `sample_modes`), else []."""
        return self._mode_list("sample_modes")

    @property
    def loss(self) -> float | None:
        """Dropped / sent datagrams (0..1) from the stack's counts, or None when not recorded."""
        counts = self.get("stack_counts") or {}
        sent, dropped = counts.get("sent"), counts.get("dropped")
        if not sent or dropped is None:
            return None
        return float(dropped) / float(sent)

    @property
    def label(self) -> str:
        """stack/scenario/…/pinning: every identity value that is set, for tables and messages."""
        parts = [self.get("stack", "?"), self.get("scenario", "?")]
        for k in ("primitive", "api", "threading_mode", "input_mode", "mailbox_kind", "lock_kind", "variant"):
            if self.get(k):
                parts.append(str(self[k]))
        parts += [f"{self.get('payload_bytes')}B", f"t{self.get('app_threads')}", str(self.get("pinning"))]
        if self.get("netif") not in (None, "loopback"):
            parts.append(str(self["netif"]))
        return "/".join(str(p) for p in parts)


@dataclass
class Results:
    """Records plus the environment and notes of the document they came from."""

    records: list
    environment: dict
    notes: list
    samples: list | None = None  # numpy arrays (ns/op) per record, when measured from Python
    path: Path | None = None
    report: str | None = None
    created_utc: str | None = None
    command: str | None = None
    label: str | None = None
    # The extension's RunContext (warm-up, seed, start time and load) of a run measured from
    # Python; save() records it in the file's environment. None for loaded files.
    run_context: object | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def find(self, **match) -> list:
        """Records whose fields equal every given value, e.g. find(api='socket', pinning='same_core')."""
        return [r for r in self.records if all(r.get(k) == v for k, v in match.items())]

    def table(self) -> str:
        """An aligned text table: point, p50, p99, context switches per op, loss."""
        labels = [r.label for r in self.records]
        width = max([len("scenario point")] + [len(s) for s in labels])
        rows = [f"{'scenario point':<{width}} {'p50':>10} {'p99':>10} {'ctxsw/op':>9} {'loss':>7}"]
        for label, r in zip(labels, self.records):
            loss = r.loss
            rows.append(f"{label:<{width}} {fmt_ns(r.p50_ns):>10} {fmt_ns(r.percentile_ns('p99')):>10} "
                        f"{fmt_count(r.counter_per_op('context_switches')):>9} "
                        f"{'n/a' if loss is None else f'{100 * loss:.1f}%':>7}")
        return "\n".join(rows)

    def to_dataframe(self):
        """One row per record: identity columns, latency percentiles (ns), spread, rates, counters per op, loss.

        Needs pandas (Debian: python3-pandas); raises ImportError saying so when it is missing.
        """
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Results.to_dataframe() needs pandas: apt-get install python3-pandas "
                              "(everything else in lwbench works without it)") from e
        rows = []
        for r in self.records:
            row = {k: r.get(k) for k in IDENTITY}
            for k, v in (r.get("latency_ns") or {}).items():
                if k != "ladder":
                    row[f"{k}_ns"] = v
            spread = r.get("spread") or {}
            row.update(repetitions=r.get("repetitions"), ops_per_sample=r.get("ops_per_sample"),
                       rel_mad=spread.get("rel_mad"), ops_per_sec=r.get("ops_per_sec"),
                       bytes_per_sec=r.get("bytes_per_sec"), loss=r.loss, errors=r.get("errors"))
            for name, c in (r.get("counters") or {}).items():
                row[f"{name}_per_op"] = (c or {}).get("per_op")
            rows.append(row)
        return pd.DataFrame(rows)

    def save(self, directory: str | Path, label: str = "python", command: str = "lwbench.run(...)") -> Path:
        """Write a NEW result file (atomically, never overwriting) and its CSV; returns the JSON path."""
        from . import _ext

        path = _ext.load().save_results(str(directory), label, command, [dict(r) for r in self.records],
                                         list(self.notes), self.run_context)
        self.path = Path(path)
        return self.path


def is_result_document(doc) -> bool:
    """True for a parsed JSON document in the lwbench.results schema (any version)."""
    return isinstance(doc, dict) and doc.get("schema") == SCHEMA


def read_document(path: str | os.PathLike) -> dict:
    """Parse and check one result file; returns the document as a dict.

    Raises FileNotFoundError, ValueError for invalid JSON or an unsupported schema
    version, and NotAResultFile (a ValueError) for JSON that is not an lwbench
    result (callers that take globs skip those with a note).
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not is_result_document(doc):
        what = "Google Benchmark output" if isinstance(doc, dict) and "benchmarks" in doc else "another document"
        raise NotAResultFile(f"{path} is not an lwbench result file ({what}; schema != {SCHEMA!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: unsupported schema_version {doc.get('schema_version')!r} "
                         f"(this lwbench reads {SCHEMA_VERSION})")
    return doc


def read_google_benchmark(path: str | os.PathLike) -> dict:
    """Parse a Google Benchmark JSON file (--benchmark_out) written by lwbench's bench binaries.

    Raises ValueError for invalid JSON or a document without a "benchmarks" list.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ValueError(f"{path} is not Google Benchmark output (no \"benchmarks\" list)")
    return doc


def from_document(doc: dict, path: Path | None = None) -> Results:
    """Results from a parsed result document."""
    return Results(records=[Record({**r, "sched_policy": r.get("sched_policy") or "other",
                                    "core_work_iterations": r.get("core_work_iterations") or 0})
                            for r in doc.get("records", [])], environment=doc.get("environment", {}),
                   notes=list(doc.get("notes", [])), path=path, created_utc=doc.get("created_utc"),
                   command=doc.get("command"), label=doc.get("label"))


def load(path: str | os.PathLike) -> Results:
    """Read a result file written by the harness. Raises ValueError (NotAResultFile) for anything else."""
    return from_document(read_document(path), Path(path))


def samples_summary(samples: Iterable[float]) -> dict:
    """Percentiles of raw samples (ns/op), computed like the harness (linear interpolation)."""
    arr = np.sort(np.asarray(list(samples) if not isinstance(samples, np.ndarray) else samples, dtype=float))
    if arr.size == 0:
        return {}
    q = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "p999": 0.999}
    out = {k: float(np.quantile(arr, v)) for k, v in q.items()}
    out.update(min=float(arr[0]), max=float(arr[-1]), mean=float(arr.mean()), count=int(arr.size))
    return out


# ---- writing: never replace, never leave a partial file under a final name ------------------


def write_new_file(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` to a NEW file `path`, atomically: a temporary file in the same folder, then link(2),
    which fails instead of replacing. Raises FileExistsError when `path` exists (nothing is written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path


def _rename_noreplace(src: Path, dst: Path) -> None:
    """rename(2) that fails instead of replacing an existing dst (renameat2 RENAME_NOREPLACE where
    available; else check-then-rename)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        fn = None
    if fn is not None:
        at_fdcwd, rename_noreplace = -100, 1
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), rename_noreplace) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(err, os.strerror(err), str(dst))
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)


def publish_directory(partial: Path, parent: Path, name: str) -> Path:
    """Rename the finished folder `partial` to parent/name (or name_2, name_3, … if taken), never replacing."""
    for i in range(1, 100):
        final = parent / (name if i == 1 else f"{name}_{i}")
        if final.exists():
            continue
        try:
            _rename_noreplace(partial, final)
            return final
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise
    raise FileExistsError(errno.EEXIST, "no free folder name", str(parent / name))


def publish_run_folder(raw: Path, parent: Path, kind: str, revision: str, created, files: dict[str, str]) -> Path:
    """Publish a benchmark run as a NEW folder parent/<UTC stamp>_<revision>_<kind>/ holding a copy of
    `raw` (as raw/) and `files` (name -> text): built in a temporary folder beside it, then renamed into
    place (publish_directory), so the folder appears whole or not at all and nothing is replaced.
    `created` is the run's aware UTC datetime; `revision` its git revision (shortened to 8 characters)."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{kind}.", dir=parent))
    try:
        shutil.copytree(raw, partial / "raw")
        for name, text in files.items():
            write_new_file(partial / name, text)
        return publish_directory(partial, parent, f"{created.strftime('%Y%m%dT%H%M%SZ')}_{revision[:8]}_{kind}")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
