#!/usr/bin/python3
"""summarize.py — the performance-target ratios from lwbench Google Benchmark JSON.

Usage:
    bench/summarize.py RESULT.json [RESULT.json ...] [--markdown OUT.md]

Reads the JSON that bench_micro / bench_macro / bench_dispatch wrote with
--benchmark_out (run with --benchmark_repetitions=N), and prints to stdout:

  * runtime-dispatch overhead  Dispatch_dyn vs Dispatch_fixed_cl (core-locking send,
                               raw/netconn/socket; raw does not go through the
                               dispatcher and is the control), and vs Dispatch_fixed_mp;
                               target <= 2 %
  * CL socket / raw            Send/socket vs Send/raw, core locking, 1458 B; target <= 1.3x
  * raw / floor                Send/raw (core locking, 1458 B, zero-copy loopback delivery
                               included) vs Floor/udp_emit/1458; target <= 3x
  * harness overhead           cost of one timing sample vs the fastest measured
                               operation; target <= 5 % (or batching)
  * steady state               heap allocations, payload copies and operator-new calls
                               per datagram on the raw and netconn send paths; target 0
  * seed ratios                message passing / core locking, core locking / raw

Statistics: every figure is the median over the repetitions (the individual
"iteration" runs, not Google Benchmark's aggregates), with its spread as the median
absolute deviation relative to the median (rel MAD) and the min..max range. Latency
figures use our per-op p50 (user counter p50_ns); the mean time per iteration
(Google Benchmark's real_time) is shown next to it. Ratios are ratios of medians of
benchmarks that ran interleaved in the same process (--benchmark_enable_random_interleaving).

Verdicts: a ratio target is "met" when the whole 95 % interval of the ratio (percentile
bootstrap over the repetitions, lwbench.compare.bootstrap_ratio_interval) lies within the
limit and the distance to the limit exceeds the spread (2 x the two sides' relative MADs
combined); "MISSED" when both lie beyond it; otherwise "inconclusive" (the spread covers
the difference), as with fewer than 3 repetitions. The exit status is 1 when a
target is MISSED (really missed: beyond the spread), 0 otherwise, 2 for unreadable input.

Benchmark names: `mode:core_locking` (the binaries' readable names); files written before
that (`mode:1`) are read too.

Uses the lwbench Python package (python/lwbench: the one reader, formatter and atomic
writer) and numpy; nothing is written unless --markdown is given, and then only to a
file that does not exist yet (never overwritten).
"""

import argparse
import importlib.util
import math
import os
import re
import statistics
import sys
from pathlib import Path

if importlib.util.find_spec("lwbench") is None:  # a plain checkout: the package is in <repo>/python
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from lwbench.compare import MIN_REPETITIONS, bootstrap_ratio_interval  # noqa: E402
from lwbench.formatting import fmt_ns  # noqa: E402
from lwbench.results import read_google_benchmark, write_new_file  # noqa: E402

TIME_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class Runs:
    """Individual repetitions of every benchmark, by run name, from one or more files."""

    def __init__(self):
        self.by_name = {}    # run_name -> list of run dicts
        self.errors = []     # (run_name, message)
        self.contexts = {}   # file -> context dict

    def load(self, path):
        if os.path.getsize(path) == 0:  # e.g. a --benchmark_filter that matched nothing here
            print(f"summarize.py: {path} is empty (no benchmark ran), skipped", file=sys.stderr)
            return
        doc = read_google_benchmark(path)
        self.contexts[path] = doc.get("context", {})
        for b in doc.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            name = readable(b.get("run_name", b["name"]))
            if b.get("error_occurred"):
                self.errors.append((name, b.get("error_message", "")))
                continue
            b["_file"] = path
            b["_real_ns"] = b["real_time"] * TIME_TO_NS.get(b.get("time_unit", "ns"), 1.0)
            self.by_name.setdefault(name, []).append(b)

    def values(self, name, field):
        vals = []
        for b in self.by_name.get(name, []):
            v = b["_real_ns"] if field == "real_time" else b.get(field)
            if isinstance(v, (int, float)) and math.isfinite(v):
                vals.append(float(v))
        return vals

    def stat(self, name, field):
        return Stat(self.values(name, field))

    def names(self, pattern):
        rx = re.compile(pattern)
        return sorted(n for n in self.by_name if rx.search(n))

    def context(self, key):
        for ctx in self.contexts.values():
            if key in ctx:
                return ctx[key]
        return None


# Files written before the binaries named their arg values: mode:0/1, lock:0/1/2.
_OLD_VALUES = {"mode": ("message_passing", "core_locking"),
               "lock": ("std_mutex", "tbb_spin_mutex", "tbb_queuing_mutex")}


def readable(name):
    """A benchmark name with readable arg values (mode:1 -> mode:core_locking); new names unchanged."""
    def one(m):
        values = _OLD_VALUES[m.group(1)]
        index = int(m.group(2))
        return f"{m.group(1)}:{values[index]}" if index < len(values) else m.group(0)
    return re.sub(r"\b(mode|lock):(\d+)\b", one, name)


MODE = {0: "message_passing", 1: "core_locking"}


class Stat:
    def __init__(self, vals):
        self.vals = sorted(vals)
        self.n = len(vals)
        if self.n:
            self.median = statistics.median(self.vals)
            self.mad = statistics.median(abs(v - self.median) for v in self.vals)
            self.rel_mad = self.mad / self.median if self.median else 0.0
            self.min, self.max = self.vals[0], self.vals[-1]
        else:
            self.median = self.mad = self.rel_mad = self.min = self.max = float("nan")

    def __bool__(self):
        return self.n > 0

    def fmt(self, unit="ns"):
        if not self:
            return "n/a"
        return f"{fmt_num(self.median, unit)} ±{self.rel_mad * 100:.1f}% [{fmt_num(self.min, unit)}..{fmt_num(self.max, unit)}] (n={self.n})"


def fmt_num(v, unit="ns"):
    if not math.isfinite(v):
        return "n/a"
    if unit == "ns":
        return fmt_ns(v)
    if unit == "x":
        return f"{v:.3f}x"
    if unit == "%":
        return f"{v:+.2f}%"
    return f"{v:.4g}"


def ratio(a, b):
    if not a or not b or b.median == 0:
        return float("nan")
    return a.median / b.median


class Report:
    def __init__(self):
        self.lines = []

    def h(self, text):
        self.lines += ["", f"## {text}", ""]

    def p(self, text=""):
        self.lines.append(text)

    def table(self, header, rows):
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            self.lines.append("| " + " | ".join(str(c) for c in r) + " |")
        self.lines.append("")

    def text(self):
        return "\n".join(self.lines) + "\n"


def verdict(value, limit, fmt):
    if not math.isfinite(value):
        return "NOT MEASURED"
    return f"met ({fmt(value)} <= {fmt(limit)})" if value <= limit else f"MISSED ({fmt(value)} > {fmt(limit)})"


class Target:
    """A ratio target judged against its spread: met, MISSED (beyond the spread) or inconclusive."""

    def __init__(self, num, den, limit):
        self.limit = limit
        self.ratio = ratio(num, den)
        self.low = self.high = float("nan")
        if not math.isfinite(self.ratio):
            self.verdict, self.why = "NOT MEASURED", "no data"
        elif num.n < MIN_REPETITIONS or den.n < MIN_REPETITIONS:
            self.verdict, self.why = "inconclusive", f"fewer than {MIN_REPETITIONS} repetitions"
        else:
            self.low, self.high = bootstrap_ratio_interval(den.vals, num.vals)
            # The spread: both sides' relative MADs combined, twice (about a 95% band for
            # normal noise). A distance to the limit inside it is not a finding either way.
            spread = 2 * math.hypot(num.rel_mad, den.rel_mad) * self.ratio
            if self.high <= limit and limit - self.ratio > spread:
                self.verdict, self.why = "met", "the 95% interval and the spread are within the limit"
            elif self.low > limit and self.ratio - limit > spread:
                self.verdict, self.why = "MISSED", "the 95% interval and the spread are beyond the limit"
            else:
                self.verdict, self.why = "inconclusive", (f"the spread (±{100 * spread / self.ratio:.1f}%) or the "
                                                          "interval covers the limit")

    @property
    def missed(self):
        return self.verdict == "MISSED"

    def text(self, fmt):
        interval = (f", 95% interval {fmt(self.low)}..{fmt(self.high)}" if math.isfinite(self.low) else "")
        return f"{self.verdict} ({fmt(self.ratio)} vs limit {fmt(self.limit)}{interval}: {self.why})"


def record_target(results, key, target, what):
    """Store a target's ratio and verdict under `key` in the key figures; a miss is listed. Returns it."""
    results[key] = target.ratio
    results[f"{key}_verdict"] = target.verdict
    if target.missed:
        results["missed"].append(what)
    return target


def pct(v):
    return f"{v:+.2f}%"


def xr(v):
    return f"{v:.3f}x"


def summarize(runs):
    r = Report()
    results = {}  # key figures for the one-line summary

    rev = runs.context("lwbench_git_revision") or "unknown"
    r.p("# lwbench Google Benchmark summary")
    r.p()
    r.p(f"- git revision: `{rev}` (dirty: {runs.context('lwbench_git_dirty')})")
    r.p(f"- build: {runs.context('lwbench_build_type')}; pinning: {runs.context('lwbench_pinning')}")
    r.p(f"- host: {runs.context('host_name')}, {runs.context('num_cpus')} CPUs; "
        f"perf counters: context switches {runs.context('lwbench_counters_context_switches')}, "
        f"hardware {runs.context('lwbench_counters_hardware')}")
    r.p(f"- files: {', '.join(os.path.basename(f) for f in runs.contexts)}")
    r.p("- statistics: median over repetitions ±rel MAD [min..max]; latency = our per-op p50 "
        "(p50_ns), mean = Google Benchmark real_time per iteration")

    # ---- dispatch ---------------------------------------------------------------------------
    r.h("Runtime dispatch vs compile-time-fixed mode (target: <= 2%)")
    rows = []
    worst_cl = None
    for api in ("raw", "netconn", "socket"):
        for mode, fixed, payloads in ((1, "fixed_cl", (64, 1458)), (0, "fixed_mp", (1458,))):
            for pl in payloads:
                dyn_n = f"Dispatch_dyn/{api}/mode:{MODE[mode]}/payload:{pl}/real_time"
                fix_n = f"Dispatch_{fixed}/{api}/mode:{MODE[mode]}/payload:{pl}/real_time"
                d50, f50 = runs.stat(dyn_n, "p50_ns"), runs.stat(fix_n, "p50_ns")
                dmean, fmean = runs.stat(dyn_n, "real_time"), runs.stat(fix_n, "real_time")
                target = Target(d50, f50, 1.02)
                ov50 = (target.ratio - 1) * 100
                ovmean = (ratio(dmean, fmean) - 1) * 100
                role = "control (no dispatcher)" if api == "raw" else "dispatched"
                if mode == 1 and api != "raw" and math.isfinite(ov50):
                    if worst_cl is None or ov50 > (worst_cl.ratio - 1) * 100:
                        worst_cl = target
                interval = (f"{pct((target.low - 1) * 100)}..{pct((target.high - 1) * 100)}"
                            if math.isfinite(target.low) else "n/a")
                rows.append([f"{api} {'CL' if mode else 'MP'} {pl} B", role, d50.fmt(), f50.fmt(),
                             pct(ov50) if math.isfinite(ov50) else "n/a", interval,
                             pct(ovmean) if math.isfinite(ovmean) else "n/a",
                             target.verdict if api != "raw" and mode == 1 else "(not a target)"])
    r.table(["send", "path", "dyn p50", "fixed p50", "overhead (p50)", "95% interval", "overhead (mean)",
             "verdict"], rows)
    results["dispatch_overhead_pct"] = (worst_cl.ratio - 1) * 100 if worst_cl else float("nan")
    results["dispatch_verdict"] = worst_cl.verdict if worst_cl else "NOT MEASURED"
    results["missed"] = []
    if worst_cl and worst_cl.missed:
        results["missed"].append("runtime dispatch overhead")
    r.p(f"Worst core-locking dispatched overhead (netconn/socket, p50): "
        f"**{pct(results['dispatch_overhead_pct']) if math.isfinite(results['dispatch_overhead_pct']) else 'n/a'}** — "
        f"target <= +2%: {worst_cl.text(lambda v: pct((v - 1) * 100)) if worst_cl else 'NOT MEASURED'}. "
        "The raw rows do not go through stack::call; their difference is the noise floor of "
        "comparing two separately compiled copies of the stack.")

    # ---- CL socket / raw -----------------------------------------------------------------------
    r.h("Core-locked socket sendto vs raw udp_sendto, 1458 B (target: <= 1.3x)")
    sock = runs.stat("Send/socket/mode:core_locking/payload:1458/real_time", "p50_ns")
    raw = runs.stat("Send/raw/mode:core_locking/payload:1458/real_time", "p50_ns")
    sock_m = runs.stat("Send/socket/mode:core_locking/payload:1458/real_time", "real_time")
    raw_m = runs.stat("Send/raw/mode:core_locking/payload:1458/real_time", "real_time")
    cl_raw = record_target(results, "cl_socket_over_raw", Target(sock, raw, 1.3), "core-locked socket / raw")
    r.table(["", "p50", "mean"],
            [["socket (core locking)", sock.fmt(), sock_m.fmt()],
             ["raw from core_guard", raw.fmt(), raw_m.fmt()],
             ["ratio", xr(results["cl_socket_over_raw"]), xr(ratio(sock_m, raw_m))]])
    r.p(f"socket / raw = **{xr(results['cl_socket_over_raw'])}** — target <= 1.3x: "
        f"{cl_raw.text(xr)} (seed 2007: 0.91x, 'near raw').")

    # ---- raw / floor -----------------------------------------------------------------------------
    r.h("Raw udp_sendto + zero-copy loopback delivery vs the primitives floor, 1458 B (target: <= 3x)")
    floor = runs.stat("Floor/udp_emit/payload:1458", "p50_ns")
    floor_m = runs.stat("Floor/udp_emit/payload:1458", "real_time")
    raw_floor = record_target(results, "raw_over_floor", Target(raw, floor, 3.0), "raw / floor")
    r.table(["", "p50", "mean"],
            [["raw send + delivery (core locking)", raw.fmt(), raw_m.fmt()],
             ["floor: IPv4+UDP headers, checksum on send, verify on receive", floor.fmt(), floor_m.fmt()],
             ["ratio", xr(results["raw_over_floor"]), xr(ratio(raw_m, floor_m))]])
    r.p(f"raw / floor = **{xr(results['raw_over_floor'])}** — target <= 3x: {raw_floor.text(xr)}.")

    # ---- harness overhead -------------------------------------------------------------------------
    r.h("Harness overhead per timed sample (target: <= 5% of the fastest operation, or batching)")
    pair = runs.stat("Harness/pair_push", "p50_ns")
    tick1 = runs.stat("Harness/sampler_tick", "p50_ns")
    nowc = runs.stat("Harness/now", "p50_ns")
    fastest_name, fastest = None, None
    overheads = []
    cost_ctx = runs.context("lwbench_sample_cost_ns")
    sample_cost = tick1.median if tick1 else (float(cost_ctx) if cost_ctx else float("nan"))
    for name in runs.names(r"^(Send|Recv|RoundTrip|Throughput)/"):
        s = runs.stat(name, "p50_ns")
        if not s:
            continue
        if fastest is None or s.median < fastest.median:
            fastest_name, fastest = name, s
        ops = runs.stat(name, "ops_per_sample")
        if ops and math.isfinite(sample_cost):
            overheads.append((sample_cost / (ops.median * s.median) * 100, name, ops.median))
    r.table(["timing sample", "cost (p50 of 64-sample batches)"],
            [["one steady_clock::now()", nowc.fmt()],
             ["harness style: two now() + vector push", pair.fmt()],
             ["our sampler tick, 1 op/sample (one chained now() + store)", tick1.fmt()]])
    if fastest is not None:
        unbatched = pair.median / fastest.median * 100 if pair else float("nan")
        need = math.ceil(pair.median / (0.05 * fastest.median)) if pair else float("nan")
        results["harness_unbatched_pct"] = unbatched
        r.p(f"Fastest measured operation: `{fastest_name}` p50 {fmt_num(fastest.median)}. "
            f"One unbatched harness-style sample would add **{unbatched:.1f}%** "
            f"({'within' if unbatched <= 5 else 'above'} the 5% target): "
            + ("no batching needed." if unbatched <= 5 else
               f"batching of >= {need} operations per sample is needed, and is done: every macro benchmark "
               "sizes its batch (ops_per_sample) from a probe so that one sample costs <= 5% of the ops it times."))
    if overheads:
        overheads.sort(reverse=True)
        worst = overheads[0]
        results["harness_worst_pct"] = worst[0]
        if worst[0] > 5.0:
            results["missed"].append("harness overhead per sample")
        r.p()
        r.p(f"Sampler overhead as run (sample cost {fmt_num(sample_cost)} / (ops_per_sample × p50)), worst: "
            f"**{worst[0]:.2f}%** at `{worst[1]}` ({worst[2]:.0f} ops/sample) — target "
            f"{verdict(worst[0], 5.0, lambda v: f'{v:.2f}%')}.")
        r.table(["benchmark", "ops/sample", "overhead"],
                [[f"`{n}`", f"{o:.0f}", f"{v:.2f}%"] for v, n, o in overheads[:5]])

    # ---- steady state -----------------------------------------------------------------------------
    r.h("Steady-state send: allocations and copies per datagram (target: 0 on raw and netconn)")
    rows = []
    worst = {"heap_allocs_per_op": 0.0, "payload_copies_per_op": 0.0, "new_calls_per_op": 0.0}
    for name in runs.names(r"^(Send|Dispatch_[a-z_]+)/(raw|netconn|socket)/"):
        api = name.split("/")[1]
        cells = [f"`{name}`"]
        for field in ("heap_allocs_per_op", "payload_copies_per_op", "new_calls_per_op"):
            vals = runs.values(name, field)
            mx = max(vals) if vals else float("nan")
            if api in ("raw", "netconn") and vals:
                worst[field] = max(worst[field], mx)
            cells.append(f"{mx:.4g}" if vals else "n/a")
        rows.append(cells)
    results.update({f"steady_max_{k}": v for k, v in worst.items()})
    ok = all(v == 0 for v in worst.values())
    if not ok:
        results["missed"].append("steady state: allocations / copies")
    r.p(f"Raw and netconn, every mode and payload, maximum over repetitions: heap allocations "
        f"{worst['heap_allocs_per_op']:.4g}/datagram, payload copies {worst['payload_copies_per_op']:.4g}/datagram, "
        f"operator new {worst['new_calls_per_op']:.4g}/datagram — target {'met' if ok else 'MISSED'}. "
        "(The socket API copies once by contract: user buffer -> pbuf.) Asserted by ctest `bench_steady_state`.")
    r.p()
    r.table(["benchmark", "heap allocs/op", "payload copies/op", "operator new/op"], rows)

    # ---- seed ratios ---------------------------------------------------------------------------------
    r.h("Seed comparison ratios (1458 B)")
    rows = []
    for api in ("socket", "netconn", "raw"):
        mp = runs.stat(f"Send/{api}/mode:message_passing/payload:1458/real_time", "p50_ns")
        cl = runs.stat(f"Send/{api}/mode:core_locking/payload:1458/real_time", "p50_ns")
        cs = runs.stat(f"Send/{api}/mode:message_passing/payload:1458/real_time", "context_switches_per_op")
        rows.append([api, mp.fmt(), cl.fmt(), xr(ratio(mp, cl)),
                     fmt_num(mp.median - cl.median) if mp and cl else "n/a",
                     f"{cs.median:.2f}" if cs else "n/a"])
    r.table(["API", "message passing p50", "core locking p50", "MP / CL", "MP - CL", "ctx switches/op (MP)"], rows)
    r.p("Seed 2007 (as reported): MP / CL 3.0x, MP - CL 137 µs, CL / raw 0.91x. "
        "Message passing on a 2-core VM depends on where the scheduler puts the two threads "
        "(see the pinning line above; `lwbench reproduce` measures both pinnings).")

    # ---- everything --------------------------------------------------------------------------------------
    r.h("All benchmarks")
    rows = []
    for name in sorted(runs.by_name):
        mean = runs.stat(name, "real_time")
        p50 = runs.stat(name, "p50_ns")
        p99 = runs.stat(name, "p99_ns")
        ips = runs.stat(name, "items_per_second")
        rows.append([f"`{name}`", mean.fmt(), p50.fmt() if p50 else "", fmt_num(p99.median) if p99 else "",
                     f"{ips.median:,.0f}" if ips else ""])
    r.table(["benchmark", "mean", "p50", "p99", "items/s"], rows)
    if runs.errors:
        r.h("Errors")
        for n, m in runs.errors:
            r.p(f"- `{n}`: {m}")
    return r, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+", help="Google Benchmark JSON files (--benchmark_out)")
    ap.add_argument("--markdown", help="also write the summary there (refused if it exists)")
    args = ap.parse_args()
    runs = Runs()
    for path in args.json:
        try:
            runs.load(path)
        except (OSError, ValueError, KeyError) as e:
            print(f"summarize.py: cannot read {path}: {e}", file=sys.stderr)
            return 2
    report, res = summarize(runs)
    text = report.text()
    if args.markdown:
        try:
            write_new_file(args.markdown, text)  # never overwrites
        except FileExistsError:
            print(f"summarize.py: {args.markdown} exists, not overwritten", file=sys.stderr)
            return 2

    def show(k, f):
        v = res.get(k, float("nan"))
        return f(v) if isinstance(v, float) and math.isfinite(v) else "n/a"

    print("lwbench performance targets (median over repetitions):")
    print(f"  dispatch overhead (worst CL netconn/socket, p50): {show('dispatch_overhead_pct', pct):>10}   target <= +2%"
          f"   {res.get('dispatch_verdict', 'NOT MEASURED')}")
    print(f"  CL socket / raw, 1458 B (p50):                     {show('cl_socket_over_raw', xr):>10}   target <= 1.3x"
          f"   {res.get('cl_socket_over_raw_verdict', 'NOT MEASURED')}")
    print(f"  raw + delivery / floor, 1458 B (p50):              {show('raw_over_floor', xr):>10}   target <= 3x"
          f"   {res.get('raw_over_floor_verdict', 'NOT MEASURED')}")
    print(f"  harness sample / fastest op, unbatched:            {show('harness_unbatched_pct', lambda v: f'{v:.1f}%'):>10}"
          f"   target <= 5% (else batch)")
    print(f"  harness sample overhead as run (worst):            {show('harness_worst_pct', lambda v: f'{v:.2f}%'):>10}   target <= 5%")
    print(f"  steady state raw+netconn (max/datagram): heap {show('steady_max_heap_allocs_per_op', lambda v: f'{v:.4g}')}, "
          f"copies {show('steady_max_payload_copies_per_op', lambda v: f'{v:.4g}')}, "
          f"operator new {show('steady_max_new_calls_per_op', lambda v: f'{v:.4g}')}   target 0")
    if runs.errors:
        print(f"  {len(runs.errors)} benchmark run(s) reported errors (see the markdown summary)")
    if args.markdown:
        print(f"summary: {args.markdown}")
    if res["missed"]:
        print(f"targets MISSED beyond their spread: {', '.join(res['missed'])}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
