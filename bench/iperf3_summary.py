"""Summarise one run of bench/iperf3_reference.sh: parse iperf3's JSON outputs and our
server's reports, and publish a new folder OUT_DIR/<UTC stamp>_<rev>_iperf3/ holding
iperf3.json, iperf3.md and the raw outputs (never replacing anything:
lwbench.results.publish_run_folder).

usage: iperf3_summary.py RAW_DIR OUT_DIR --seconds S --rounds R --cpu C

Per point (the kernel's reference, each of our modes) and direction (forward: the
client sends; reverse: the server sends): the rate the *client* measured on its own
side in each round (forward: what it sent, sum_sent; reverse: what it received,
sum_received), in Mbit/s, and the median over rounds with min..max. The client's own
side because iperf3 3.12 reads the server's byte count as a 32-bit integer, which a fast
kernel-to-kernel run overflows. Ratio: ours / the kernel's, per direction, from the
medians. For ours also: the bytes each side counted, and our stack's drops by reason.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SRC / "python"))
sys.path.insert(0, str(SRC / "bench"))
from reference_summary import fmt, load_note, median_spread, measured_on, our_report, summary_main  # noqa: E402

DIRECTIONS = ("forward", "reverse")
CLIENT_SIDE = {"forward": "sum_sent", "reverse": "sum_received"}  # what the client measured itself


def parse_run(path: Path, direction: str) -> dict:
    """One iperf3 -J output -> the client's own rate and both sides' byte counts."""
    doc = json.loads(path.read_text())
    if "error" in doc:
        raise ValueError(f"{path.name}: iperf3 reported an error: {doc['error']}")
    end = doc["end"]
    own = end[CLIENT_SIDE[direction]]
    return {"mbit_per_s": own["bits_per_second"] / 1e6, "seconds": own["seconds"],
            "sent_bytes": end["sum_sent"]["bytes"], "received_bytes": end["sum_received"]["bytes"],
            "retransmits": end["sum_sent"].get("retransmits")}


def summarise(raw: Path) -> dict:
    points: dict[str, dict] = {}
    for path in sorted(raw.glob("*_r*.json")):
        name = re.fullmatch(r"(forward|reverse)_(.+)_r(\d+)\.json", path.name)
        if not name:
            continue  # our server's reports (ours_*.json)
        direction, point, round_ = name[1], name[2], int(name[3])
        entry = points.setdefault(point, {d: {"rounds": []} for d in DIRECTIONS})
        entry[direction]["rounds"].append({"round": round_, **parse_run(path, direction)})
    for point, entry in points.items():
        for direction in DIRECTIONS:
            entry[direction]["mbit_per_s"] = median_spread([r["mbit_per_s"] for r in entry[direction]["rounds"]])
        if point == "reference":
            entry.update(link="veth", server="iperf3 -s (the kernel's TCP)")
        else:
            mode, input_mode = re.fullmatch(r"(message_passing|core_locking|combining)_(.+)", point).groups()
            reports = [our_report(raw / f"ours_{point}_r{r['round']}.json") for r in entry["forward"]["rounds"]]
            entry.update(link="tap", server="lwbench_tap_iperf3_server", threading_mode=mode, input_mode=input_mode,
                         our_drops=[rep["drops"] for rep in reports],
                         our_tcp=[rep["tcp"] for rep in reports])
    ratio = {}
    reference = points.get("reference")
    for point, entry in points.items():
        if point == "reference" or reference is None:
            continue
        ratio[point] = {}
        for direction in DIRECTIONS:
            ours, ref = entry[direction]["mbit_per_s"]["median"], reference[direction]["mbit_per_s"]["median"]
            ratio[point][direction] = ours / ref if ours and ref else None
    return {"points": points, "ratio_ours_to_kernel": ratio}


def markdown(doc: dict) -> str:
    s = doc["setup"]
    lines = [
        "# iperf3: lwbench's TCP over a TAP vs the kernel's TCP over a veth pair",
        "",
        f"{measured_on(doc)}; {s['rounds']} interleaved rounds, each one forward and one "
        f"reverse (-R) iperf3 run of {s['seconds']} s, one stream, every process on CPU {s['cpu']}. Rates in Mbit/s "
        "as the client measured them on its own side; the cell is the median over rounds, min..max beside it.",
        "",
        "| point | link | forward (client sends) | reverse (server sends) | ours / kernel, forward | reverse |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    ratio = doc["ratio_ours_to_kernel"]
    for name, p in sorted(doc["points"].items(), key=lambda kv: kv[0] != "reference"):
        cell = lambda d: (f"{fmt(p[d]['mbit_per_s']['median'], 0)} "  # noqa: E731
                          f"({fmt(p[d]['mbit_per_s']['min'], 0)}..{fmt(p[d]['mbit_per_s']['max'], 0)})")
        r = ratio.get(name, {})
        lines.append(f"| {name} | {p['link']} | {cell('forward')} | {cell('reverse')} | "
                     f"{fmt(r.get('forward'), 3)} | {fmt(r.get('reverse'), 3)} |")
    lines += ["", "Our stack's TCP has no window scaling (a 64 KiB window) and one send buffer of 64 KiB; the kernel's "
                  "uses both sides' autotuned buffers. " + load_note(doc)]
    return "\n".join(lines) + "\n"


def main() -> int:
    return summary_main(
        "iperf3", __doc__.splitlines()[0], lambda args: summarise(args.raw), markdown,
        lambda args: {"reference": "iperf3 -s in one namespace (192.0.2.9), client in another (192.0.2.10), veth",
                      "ours": "lwbench_tap_iperf3_server (192.0.2.2) on a TAP, client in its namespace (192.0.2.1)"})


if __name__ == "__main__":
    sys.exit(main())
