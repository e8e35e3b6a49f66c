"""lwbench: run, profile and plot the lwbench benchmarks from Python.

(Minimal placeholder: the real package front is written by the lead.)
"""

import importlib.util as _ilu
import sys as _sys
from pathlib import Path as _Path

# The plotting package lives in <repo>/plots/lwbench_plots; make it importable
# from a plain checkout.
if _ilu.find_spec("lwbench_plots") is None:
    _sys.path.append(str(_Path(__file__).resolve().parents[2] / "plots"))
