"""lwbench: what thread safety costs in an lwIP-style TCP/IP stack — from Python.

A thin layer over the private compiled module ``_lwbench`` (built by CMake):

    import lwbench
    res = lwbench.run(scenario="send_latency", api=["socket", "raw"],
                      mode=["message_passing", "core_locking"], pinning="same_core",
                      repetitions=3, ops=5000)
    print(res.table())
    res.samples[0]                 # numpy array of the raw samples (ns/op)
    res.to_dataframe()             # pandas, if installed
    path = res.save("results")     # a new, atomically written result file
    old = lwbench.load(path)
    for c in lwbench.compare(old, res): print(c.verdict, c)
    rep = lwbench.reproduce()      # the 2007 seed comparison
    s = lwbench.Stack(mode="message_passing"); s.exchange(1000); s.set_mode("core_locking")

Everything that only reads result files (load, compare, report, plots) works
without the extension; run / reproduce / Stack need it built. Command line:
``python3 -m lwbench``.
"""

from __future__ import annotations

from . import _paths
from ._version import __version__
from .api import Stack, environment, reproduce, run, scenarios
from .compare import Comparison, Comparisons, Verdict, compare, compare_stacks
from .results import IDENTITY, NotAResultFile, Record, Results, load, samples_summary

_paths.ensure_plots_importable()

__all__ = ["__version__", "run", "reproduce", "load", "compare", "compare_stacks", "Stack", "Results", "Record",
           "Comparison", "Comparisons", "Verdict", "NotAResultFile", "IDENTITY", "samples_summary", "environment",
           "scenarios"]
