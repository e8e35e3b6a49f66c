"""lwbench figures: matplotlib plots made only from lwbench result files
(schema `lwbench.results`, docs/results-schema.md).

Every `plot_*` function takes anything `load_results` accepts (paths,
documents, a `Results`) and returns a matplotlib Figure, or raises `NoData`
when the records it needs are absent; `save_figure` writes PNG + SVG.
`plot_flame` (static) and `flame_html.flame_page` (interactive, d3-flame-graph) are
the exception: they draw folded stacks from a profile. Result files are read by
lwbench.results (the one reader) and numbers formatted by lwbench.formatting.
"""

from .common import NoData, Results, load_results, save_figure
from .figures import make_all
from .plot_counters import plot_counters
from .plot_flame import plot_flame
from .plot_floor import plot_floor
from .plot_latency import plot_latency_cdf, plot_percentiles_vs_size
from .plot_seed import SEED_2007_US, plot_seed
from .plot_throughput import plot_throughput

__all__ = [
    "NoData",
    "Results",
    "load_results",
    "save_figure",
    "make_all",
    "plot_counters",
    "plot_flame",
    "plot_floor",
    "plot_latency_cdf",
    "plot_percentiles_vs_size",
    "plot_seed",
    "SEED_2007_US",
    "plot_throughput",
]
