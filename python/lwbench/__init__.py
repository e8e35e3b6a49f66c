"""lwbench: what thread safety costs in an lwIP-style TCP/IP stack — from Python.

A thin layer over the private compiled module ``_lwbench`` (built by CMake):

    import lwbench
    res = lwbench.run(scenario="send_latency", api=["socket", "raw"],
                      mode=["message_passing", "core_locking"], pinning="same_core",
                      repetitions=3, ops=5000)
    print(res.table())
    res.samples[0]                 # numpy array of the raw samples (ns/op)
    path = res.save("results")     # a new, atomically written result file
    old = lwbench.load(path)
    for c in lwbench.compare(old, res): print(c)
    rep = lwbench.reproduce()      # the 2007 seed comparison
    s = lwbench.Stack(mode="message_passing"); s.exchange(1000); s.set_mode("core_locking")

Everything that only reads result files (load, compare, plots) works without the
extension; run/reproduce/Stack need it built. Command line: ``python3 -m lwbench``.
"""

from __future__ import annotations

import importlib.util as _ilu
import itertools as _it
import sys as _sys
from pathlib import Path as _Path

# The plotting package lives in <repo>/plots/lwbench_plots; make it importable from a checkout.
if _ilu.find_spec("lwbench_plots") is None:
    _sys.path.append(str(_Path(__file__).resolve().parents[2] / "plots"))

from .results import IDENTITY, Comparison, Record, Results, compare, load, samples_summary  # noqa: E402

__all__ = ["run", "reproduce", "load", "compare", "Stack", "Results", "Record", "Comparison", "IDENTITY",
           "samples_summary", "environment", "scenarios"]

_LIST_PARAMS = ("scenario", "api", "primitive", "mode", "input_mode", "mailbox", "lock", "size", "threads", "pinning")


def _as_list(v):
    if v is None:
        return [None]
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, str) and "," in v:
        return [x.strip() for x in v.split(",") if x.strip()]
    return [v]


def _points(params: dict) -> list:
    """Every combination of the given lists (a sweep); primitives cross only with what they depend on."""
    lists = {k: _as_list(params.get(k)) for k in _LIST_PARAMS}
    out, seen = [], set()
    for combo in _it.product(*(lists[k] for k in _LIST_PARAMS)):
        p = {k: v for k, v in zip(_LIST_PARAMS, combo) if v is not None}
        if p.get("scenario") == "primitive":
            p.pop("api", None)
            if p.get("primitive") is None:
                raise ValueError("scenario='primitive' needs primitive=... (see lwbench.scenarios())")
        else:
            p.pop("primitive", None)
        key = tuple(sorted((k, str(v)) for k, v in p.items()))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def run(scenario="send_latency", api="socket", mode=("message_passing", "core_locking"), input_mode="auto",
        mailbox="mutex_cv", lock="std_mutex", size=1458, threads=1, pinning="none", primitive=None,
        repetitions=5, ops=20000, warmup=2000, seed=1, hardware_counters=True, progress=True,
        save=None) -> Results:
    """Measure a scenario point or a sweep (any argument may be a list), interleaved.

    Returns Results with one Record per point and ``samples`` (numpy arrays, ns/op).
    ``save``: a directory to write a new result file into (or None). Bad names or
    values raise ValueError; Ctrl-C raises KeyboardInterrupt and leaves nothing behind.
    """
    from . import _ext

    ext = _ext.load()
    pts = _points(dict(scenario=scenario, api=api, mode=mode, input_mode=input_mode, mailbox=mailbox, lock=lock,
                       size=size, threads=threads, pinning=pinning, primitive=primitive))
    out = ext.run_points(pts, repetitions=repetitions, ops=ops, warmup=warmup, seed=seed,
                         hardware_counters=hardware_counters, progress=progress, keep_samples=True)
    res = Results(records=[Record(r) for r, _ in out], environment=ext.environment(), notes=[],
                  samples=[s for _, s in out])
    if save is not None:
        res.save(save, label="python", command=f"lwbench.run({pts!r})")
    return res


def reproduce(repetitions=5, ops=20000, warmup=2000, with_lwip=True, progress=True, save=None) -> Results:
    """The 2007 seed comparison on this machine; ``.report`` holds the markdown table."""
    from . import _ext

    ext = _ext.load()
    d = ext.reproduce(repetitions=repetitions, ops=ops, warmup=warmup, with_lwip=with_lwip, progress=progress)
    res = Results(records=[Record(r) for r in d["records"]], environment=ext.environment(), notes=list(d["notes"]),
                  report=d["report"])
    if save is not None:
        res.save(save, label="reproduce", command="lwbench.reproduce()")
    return res


def Stack(mode="core_locking", input_mode="auto", mailbox="mutex_cv", lock="std_mutex"):
    """A live stack (zero-copy loopback, two sockets) with ``set_mode``/``set_input_mode`` and ``exchange``."""
    from . import _ext

    return _ext.load().Stack(mode, input_mode, mailbox, lock)


def environment() -> dict:
    from . import _ext

    return _ext.load().environment()


def scenarios() -> list:
    from . import _ext

    return _ext.load().catalog()
