"""python3 -m lwbench_plots RESULTS.json... [-o DIR]: render every figure."""

import argparse
import sys

from .figures import make_all


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m lwbench_plots", description=__doc__)
    ap.add_argument("results", nargs="+", help="lwbench result JSON files (merged)")
    ap.add_argument("-o", "--out-dir", default="plots_out", help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)
    for path in make_all(args.results, args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
