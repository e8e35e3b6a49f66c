"""Summarise one run of bench/sockperf_reference.sh: parse sockperf's outputs and our
echo server's reports, and publish a new folder OUT_DIR/<UTC stamp>_<rev>_sockperf/
holding sockperf.json, sockperf.md and the raw outputs (never replacing anything:
lwbench.results.publish_run_folder).

usage: sockperf_summary.py RAW_DIR OUT_DIR --seconds S --rounds R --cpu C --message-size M

Per ping-pong point: sockperf's round trip (it was run with --full-rtt) average, p50,
p99 and p99.9 in µs for each round, and the median over rounds with the spread
(min..max of the round values); sent and received messages. The target ratio is ours
(core locking, inline input, one core) / the kernel's reference, from the medians of
the rounds' p50 and of their averages. Throughput: sockperf's offered message rate and,
for ours, what our stack received and dropped. Live switch: the switches our stack made,
sockperf's sent/received, our drops by reason.
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

TARGET_RATIO = 1.5  # issue 15: ours (core locking, inline, one core) <= 1.5x the kernel's
TARGET_POINT = "core_locking_inline"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse_pingpong(text: str) -> dict:
    """sockperf ping-pong --full-rtt output -> numbers (µs); raises ValueError when incomplete."""
    text = ANSI.sub("", text)
    valid = re.search(r"\[Valid Duration\] RunTime=[\d.]+ sec; SentMessages=(\d+); ReceivedMessages=(\d+)", text)
    total = re.search(r"\[Total Run\] RunTime=[\d.]+ sec; Warm up time=\d+ msec; SentMessages=(\d+); "
                      r"ReceivedMessages=(\d+)", text)
    avg = re.search(r"Summary: Round trip is ([\d.]+) usec", text)
    if not (valid and total and avg):
        raise ValueError("not a complete sockperf ping-pong --full-rtt output")
    pct = {float(q): float(v) for q, v in re.findall(r"percentile\s+([\d.]+)\s*=\s*([\d.]+)", text)}
    dropped = re.search(r"# dropped messages = (\d+)", text)
    return {
        "avg_us": float(avg[1]),
        "p50_us": pct.get(50.0),
        "p99_us": pct.get(99.0),
        "p999_us": pct.get(99.9),
        "sent": int(total[1]),
        "received": int(total[2]),
        "valid_sent": int(valid[1]),
        "valid_received": int(valid[2]),
        "dropped": int(dropped[1]) if dropped else None,
    }


def parse_throughput(text: str) -> dict:
    text = ANSI.sub("", text)
    rate = re.search(r"Summary: Message Rate is (\d+) \[msg/sec\]", text)
    sent = re.search(r"Total of (\d+) messages sent in ([\d.]+) sec", text)
    if not (rate and sent):
        raise ValueError("not a complete sockperf throughput output")
    return {"offered_msg_per_sec": int(rate[1]), "sent": int(sent[1]), "seconds": float(sent[2])}


def tap_dropped(raw: Path) -> int | None:
    """Frames the TAP's queue towards our driver dropped during the throughput run (the
    kernel's tx "dropped" counter of the device, after minus before), or None."""
    try:
        before, after = (json.loads((raw / f"tap_link_{when}_throughput.json").read_text())[0]["stats64"]["tx"]["dropped"]
                         for when in ("before", "after"))
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return after - before


def summarise(raw: Path, args) -> dict:
    points: dict[str, dict] = {}
    for log in sorted(raw.glob("pingpong_*_r*.log")):
        name = re.fullmatch(r"pingpong_(.+)_r(\d+)\.log", log.name)
        points.setdefault(name[1], {"rounds": []})["rounds"].append({"round": int(name[2]), **parse_pingpong(log.read_text())})
    for name, point in points.items():
        rounds = point["rounds"]
        for key in ("avg_us", "p50_us", "p99_us", "p999_us"):
            point[key] = median_spread([r[key] for r in rounds])
        point["sent"] = sum(r["sent"] for r in rounds)
        point["received"] = sum(r["received"] for r in rounds)
        if name != "reference":
            threading, input_mode = name.rsplit("_", 1)
            point.update(link="tap", server="lwbench_tap_udp_echo", threading_mode=threading, input_mode=input_mode,
                         reports=[our_report(raw / f"ours_{name}_r{r['round']}.json") for r in rounds])
        else:
            point.update(link="veth", server="sockperf server (the kernel's UDP)")
    ratio = None
    if "reference" in points and TARGET_POINT in points:
        ref, ours = points["reference"], points[TARGET_POINT]
        ratio = {key: (ours[key]["median"] / ref[key]["median"]
                       if ours[key]["median"] and ref[key]["median"] else None) for key in ("p50_us", "avg_us")}
        ratio["target"] = TARGET_RATIO
        ratio["met"] = ratio["p50_us"] is not None and ratio["p50_us"] <= TARGET_RATIO
    throughput = {}
    for log in sorted(raw.glob("throughput_*.log")):
        name = log.name[len("throughput_"):-len(".log")]
        throughput[name] = parse_throughput(log.read_text())
        if name != "reference":
            report = our_report(raw / "ours_throughput.json")
            throughput[name].update(our_udp_received=report["udp_recv"], our_drops=report["drops"],
                                    tap_queue_dropped=tap_dropped(raw))
    live = None
    if (raw / "pingpong_live_switch.log").exists():
        pingpong = parse_pingpong((raw / "pingpong_live_switch.log").read_text())
        report = our_report(raw / "ours_live_switch.json")
        live = {"sockperf": pingpong, "mode_switches": report["mode_switches"], "echoed": report["echoed"],
                "our_drops": report["drops"], "lost": pingpong["sent"] - pingpong["received"]}
    return {"points": points, "ratio": ratio, "throughput": throughput, "live_switch": live}


def na(v) -> str:
    return "n/a" if v is None else str(v)


def markdown(doc: dict) -> str:
    s = doc["setup"]
    lines = [
        "# sockperf: lwbench over a TAP vs the kernel's UDP over a veth pair",
        "",
        f"{measured_on(doc)}; {s['rounds']} interleaved rounds of {s['seconds']} s ping-pong, "
        f"{s['message_size']}-byte messages, every process on CPU {s['cpu']}. Round trips in µs (sockperf --full-rtt); "
        "the cell is the median over rounds, min..max beside it.",
        "",
        "| point | link | p50 | avg | p99 | p99.9 | sent | received |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, p in sorted(doc["points"].items(), key=lambda kv: kv[0] != "reference"):
        cell = lambda key: f"{fmt(p[key]['median'])} ({fmt(p[key]['min'])}..{fmt(p[key]['max'])})"  # noqa: E731
        lines.append(f"| {name} | {p['link']} | {cell('p50_us')} | {cell('avg_us')} | {cell('p99_us')} | "
                     f"{cell('p999_us')} | {p['sent']} | {p['received']} |")
    r = doc["ratio"]
    if r:
        verdict = "met" if r["met"] else "MISSED"
        lines += ["", f"**Ratio** ours (core locking, inline input, one core) / kernel: p50 {fmt(r['p50_us'], 2)}x, "
                      f"avg {fmt(r['avg_us'], 2)}x (target <= {r['target']}x on p50: {verdict})."]
    if doc["throughput"]:
        lines += ["", "| throughput (sockperf, one way) | offered msg/s | our stack received | our drops | TAP queue "
                      "dropped |", "| --- | --- | --- | --- | --- |"]
        for name, t in doc["throughput"].items():
            lines.append(f"| {name} | {t['offered_msg_per_sec']} | {t.get('our_udp_received', 'n/a')} | "
                         f"{t.get('our_drops', 'n/a')} | {na(t.get('tap_queue_dropped'))} |")
    live = doc["live_switch"]
    if live:
        lines += ["", f"**Live mode switch** during a ping-pong: {live['mode_switches']} switches, sockperf sent "
                      f"{live['sockperf']['sent']} and received {live['sockperf']['received']} (lost {live['lost']}); "
                      f"our stack's drops: {live['our_drops'] or 'none'}."]
    lines += ["", load_note(doc)]
    return "\n".join(lines) + "\n"


def main() -> int:
    return summary_main(
        "sockperf", __doc__.splitlines()[0], lambda args: summarise(args.raw, args), markdown,
        lambda args: {"message_size": args.message_size,
                      "reference": "sockperf server in one namespace (192.0.2.9), client in another (192.0.2.10), "
                                   "veth",
                      "ours": "lwbench_tap_udp_echo --reply sockperf (192.0.2.2) on a TAP, client in its namespace "
                              "(192.0.2.1)"},
        extra_int_args=("--message-size",))


if __name__ == "__main__":
    sys.exit(main())
