"""Plot functions over a synthetic result file in the lwbench.results schema.

Each figure is rendered, saved as PNG + SVG (non-empty), and its title, axis
labels and honesty rules (seed labelled as reported, null counters shown as
"not available") are checked on the Figure and in the SVG text.
"""

import copy
import json
from pathlib import Path

import pytest

from conftest import make_synthetic_results, write_result
from lwbench import perf_fold
from lwbench_plots import (
    NoData,
    load_results,
    make_all,
    plot_counters,
    plot_flame,
    plot_floor,
    plot_latency_cdf,
    plot_percentiles_vs_size,
    plot_seed,
    plot_throughput,
    save_figure,
)
from lwbench_plots.common import choose, counter_per_op
from lwbench_plots.plot_counters import has_counter_values

FIXTURE = Path(__file__).parent / "fixtures" / "perf_script_small.txt"


def _saved(fig, out: Path, stem: str) -> str:
    """Save, check both files are there and non-empty, return the SVG text."""
    paths = save_figure(fig, out, stem)
    assert [p.suffix for p in paths] == [".png", ".svg"]
    for p in paths:
        assert p.is_file() and p.stat().st_size > 1000, p
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return paths[1].read_text(encoding="utf-8")


def _texts(fig) -> str:
    """All text drawn on the figure (titles, labels, annotations, footer)."""
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_seed_figure(synthetic_results_path, tmp_path):
    fig = plot_seed(synthetic_results_path)
    svg = _saved(fig, tmp_path, "seed")
    assert "Seed comparison" in fig._suptitle.get_text()
    assert "1458-byte" in fig._suptitle.get_text()
    # one panel per pinning, same-core first
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["this machine, pinning: same_core",
                                                              "this machine, pinning: separate_cores"]
    for ax in fig.axes:
        assert "raw udp_sendto" in ax.get_ylabel()
    text = _texts(fig)
    # The hard-coded 2007 numbers are labelled as reported, with their absolute values.
    assert "seed, 2007, as reported" in text
    for absolute in ("204 µs", "67.0 µs", "74.0 µs"):
        assert absolute in text
    assert "2.76×" in text  # 204 / 74
    # this machine's rows, both stacks side by side, absolute times annotated
    assert "lwbench · socket API" in text and "lwip-2.1.3 · socket API" in text
    assert "9.20 µs" in text and "380 ns" in text
    # environment footer
    assert "AMD EPYC (synthetic)" in text and "git 0123456+dirty" in text
    # SVG keeps text as text
    assert "seed, 2007, as reported" in svg and "AMD EPYC (synthetic)" in svg


def test_seed_figure_keeps_a_stack_whose_records_do_not_say_their_sched_policy(tmp_path):
    # Our records say sched_policy "other"; real lwIP's runners wrote none (files up to
    # 18b95e0a). Fixing sched_policy to "other" must not drop real lwIP from a panel.
    doc = make_synthetic_results()
    for rec in doc["records"]:
        rec["sched_policy"] = "other" if rec["stack"] == "lwbench" else None
    fig = plot_seed(write_result(tmp_path / "mixed.json", doc))
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert any("lwbench · socket API" in t for t in labels)
    assert any("lwip-2.1.3 · socket API" in t for t in labels)


def test_seed_figure_labels_an_emulated_target_as_what_it_is(tmp_path):
    doc = make_synthetic_results()
    target_options = {"target": "cortex-m3-qemu", "cpu": "Cortex-M3", "board": "mps2-an385",
                      "emulator": "QEMU emulator version 7.2"}
    for rec in [r for r in doc["records"] if r["stack"] == "lwip-2.1.3" and r["scenario"] == "send_latency"]:
        target = json.loads(json.dumps(rec))
        target.update(pinning="none", variant="cortex-m3-qemu", lwip_options=target_options)
        target["latency_ns"]["p50"] *= 30
        doc["records"].append(target)
    fig = plot_seed(write_result(tmp_path / "t.json", doc))
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[-1] == "emulated Cortex-M3 (QEMU mps2-an385): one core, its own RTOS threads (host pinning does not apply)"
    assert "this machine, pinning: none" not in titles and "pinning: none" not in titles
    target_labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert any(t.startswith("emulated Cortex-M3\n(QEMU mps2-an385)\nlwip-2.1.3 · socket API") for t in target_labels)
    assert not any("this machine" in t for t in target_labels)
    # the host panels stay the host's
    assert all("this machine" in t.get_text() for ax in fig.axes[:-1] for t in ax.get_xticklabels()[1:])


def test_latency_cdf(synthetic_results_path, tmp_path):
    fig = plot_latency_cdf(synthetic_results_path)
    svg = _saved(fig, tmp_path, "cdf")
    assert fig._suptitle.get_text().startswith("send_latency: latency distribution")
    # One row per pinning and, where both stacks are present (separate_cores in the data),
    # per stack: our stack and real lwIP in rows of their own, on a shared time axis.
    rows = [fig.axes[i:i + 2] for i in range(0, 6, 2)]
    assert [cdf.get_ylabel().split("\n")[:2] for cdf, _ in rows] == [
        ["pinning same_core", "stack lwbench"], ["pinning separate_cores", "stack lwbench"],
        ["pinning separate_cores", "stack lwip-2.1.3"]]
    (cdf, tail), (_, tail_ours), (cdf_last, tail_lwip) = rows
    assert cdf_last.get_xlabel() in ("latency per operation (ns, log scale)", "latency per operation (µs, log scale)")
    assert cdf.get_shared_x_axes().joined(cdf, cdf_last)
    assert cdf.get_xscale() == "log" and tail.get_yscale() == "log"
    assert "fraction of operations" in cdf.get_ylabel()
    ours = [t.get_text() for t in tail_ours.get_legend().get_texts()]
    lwip = [t.get_text() for t in tail_lwip.get_legend().get_texts()]
    assert tail_lwip.get_legend().get_title().get_text().startswith("pinning separate_cores · stack lwip-2.1.3")
    assert all(lab.startswith("lwbench") for lab in ours) and all(lab.startswith("lwip-2.1.3") for lab in lwip)
    labels = ours + lwip
    assert any("socket API, message passing" in lab for lab in labels)
    assert any("raw API" in lab for lab in labels)
    assert all("(n=60,000)" in lab for lab in labels)  # the tail says how many samples it rests on
    assert any("core locking" in lab for lab in labels)  # both modes shown, input paired per mode
    # the encodings are explained: colour = mode, line = stack, marker = API
    enc = cdf.get_legend()
    assert enc.get_title().get_text() == "colour = mode, line = stack, marker = API"
    enc_labels = [t.get_text() for t in enc.get_texts()]
    assert {"message passing", "core locking", "stack lwbench", "stack lwip-2.1.3", "socket API"} <= set(enc_labels)
    for panel, legend_labels in ((tail_ours, ours), (tail_lwip, lwip)):
        styles = {(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in panel.get_lines()
                  if ln.get_marker() not in (None, "None", "")}
        assert len(styles) == len(legend_labels)  # every line of a panel distinguishable
    assert "same_core" in svg


def test_percentiles_vs_size(synthetic_results_path, tmp_path):
    fig = plot_percentiles_vs_size(synthetic_results_path)
    _saved(fig, tmp_path, "pct")
    assert [ax.get_title() for ax in fig.axes[:3]] == ["p50 (median)\npinning same_core · stack lwbench",
                                                       "p99\npinning same_core · stack lwbench",
                                                       "p99.9 (from 60,000 samples)\npinning same_core · stack lwbench"]
    # a row per pinning and stack: real lwIP's single size is a row of its own, not lost among ours
    assert [ax.get_title() for ax in fig.axes[3::3]] == ["p50 (median)\npinning separate_cores · stack lwbench",
                                                         "p50 (median)\npinning separate_cores · stack lwip-2.1.3"]
    assert fig.axes[0].get_ylabel().startswith("latency per operation (")
    assert fig.axes[-1].get_xlabel() == "UDP payload (bytes, log scale)"
    # minor log labels are readable: 2x and 5x values between decades are labelled
    fig.canvas.draw()
    minor = [t.get_text() for t in fig.axes[0].yaxis.get_minorticklabels() if t.get_text()]
    assert any(m.startswith("2") for m in minor) and any(m.startswith("5") for m in minor), minor
    with pytest.raises(NoData):  # recv_latency has one size only
        plot_percentiles_vs_size(synthetic_results_path, scenario="recv_latency")


def test_throughput(synthetic_results_path, tmp_path):
    fig = plot_throughput(synthetic_results_path)
    _saved(fig, tmp_path, "tput")
    assert [ax.get_title() for ax in fig.axes[:2]] == ["message passing", "core locking"]
    assert "datagrams/s" in fig.axes[0].get_ylabel()
    assert fig.axes[2].get_xlabel() == "application (sender) threads"
    assert "loss" in fig.axes[2].get_ylabel()  # loss shown under the throughput
    mp_labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    cl_labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert mp_labels == ["mutex_cv", "spin_then_block"]
    assert cl_labels == ["std_mutex", "tbb_spin_mutex"]


def test_counters_null_is_not_zero(synthetic_results_path, tmp_path):
    fig = plot_counters(synthetic_results_path)
    svg = _saved(fig, tmp_path, "ctx")
    assert fig.axes[0].get_ylabel() == "context switches per operation (switches/op)"
    assert [ax.get_title() for ax in fig.axes[:3]] == ["send_latency", "recv_latency", "throughput"]
    two = plot_counters(synthetic_results_path, counter=("context_switches", "task_clock_ns"))
    assert len(two.axes) == 6 and "task clock" in two.axes[3].get_ylabel()  # one row per counter
    # netconn / core locking has a null counter: it is said, with its reason...
    assert "not available" in svg
    assert "perf_event_open failed (EACCES)" in _texts(fig)
    # ...and no bar of zero height stands for it: the send_latency panel draws
    # real zero bars only for socket/CL and raw (annotated "0"), never a third.
    zero_labels = [t for t in fig.axes[0].texts if t.get_text() == "0"]
    assert len(zero_labels) == 2


def test_counter_helpers(synthetic_results_path):
    rs = load_results(synthetic_results_path)
    rec = next(r for r in rs.records if r["scenario"] == "send_latency")
    assert counter_per_op(rec, "cycles") == (None, "not available: no hardware counters (virtual machine)")
    assert counter_per_op(rec, "cache_misses") == (None, "not available: not recorded")
    assert not has_counter_values(rs, "cycles")
    assert has_counter_values(rs, "context_switches")


def test_floor(synthetic_results_path, tmp_path):
    fig = plot_floor(synthetic_results_path)
    _saved(fig, tmp_path, "floor")
    ops_ax, prim_ax = fig.axes[:2]
    assert prim_ax.get_xlabel() == "time per operation, median (ns, log scale)"
    ops = [t.get_text() for t in ops_ax.get_yticklabels()]
    prims = [t.get_text() for t in prim_ax.get_yticklabels()]
    assert "socket API send, message passing" in ops
    assert "socket API: message passing − core locking" in ops
    assert "lock + unlock (uncontended) [std_mutex]" in prims
    assert "mailbox post → fetch (other thread)" in prims


def test_flame_graph_labels_hottest_frame(tmp_path):
    folded = perf_fold.read_perf_script(FIXTURE)
    fig = plot_flame(folded, title="fixture profile", footer_lines=["test environment"])
    svg = _saved(fig, tmp_path, "flame")
    assert fig._suptitle.get_text() == "fixture profile"
    ax = fig.axes[0]
    assert ax.get_xlabel() == "share of all samples with the frame on the stack (%)"
    assert "stack depth" in ax.get_ylabel()
    hottest = "lwbench::inet_chksum_pbuf(lwbench::pbuf const&)"  # 4 of 9 samples as leaf
    # labelled inside the graph (short form) and in the hottest list (full, with share)
    assert "lwbench::inet_chksum_pbuf()" in [t.get_text() for t in ax.texts]
    listed = [t.get_text() for t in fig.axes[1].texts]
    assert listed[1:3] == [" 44.4%", hottest]
    assert "lwbench::inet_chksum_pbuf()" in svg and "test environment" in svg
    with pytest.raises(NoData):
        plot_flame({})


def test_make_all(synthetic_results_path, tmp_path, capsys):
    written = make_all([synthetic_results_path], tmp_path / "figs")
    names = {p.name for p in written}
    for stem in ("seed_comparison", "latency_cdf_send_latency", "latency_vs_size_send_latency",
                 "latency_cdf_recv_latency", "throughput_vs_threads", "counters", "primitives_floor"):
        assert f"{stem}.png" in names and f"{stem}.svg" in names
    assert all(p.stat().st_size > 0 for p in written)
    err = capsys.readouterr().err
    assert "skipping latency_cdf_round_trip" in err
    assert "counters: cycles not drawn: no record has a value" in err  # all null: a note, not zeros
    assert "counters: cpu_migrations not drawn: every measured value is below" in err  # all zero: a note


def test_make_all_skips_google_benchmark_json(synthetic_results_path, tmp_path, capsys):
    gbench = tmp_path / "gbench_macro.json"
    gbench.write_text(json.dumps({"context": {}, "benchmarks": []}))
    written = make_all([synthetic_results_path, gbench], tmp_path / "figs")
    assert written
    assert "is not an lwbench result file (Google Benchmark output" in capsys.readouterr().err


def test_plot_command_exits_0_on_a_run_folder_glob(synthetic_results_path, tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    (tmp_path / "gbench_micro.json").write_text(json.dumps({"context": {}, "benchmarks": []}))
    r = subprocess.run([sys.executable, "-m", "lwbench", "plot", *map(str, sorted(tmp_path.glob("*.json"))),
                        "-o", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO / "python",
                       timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Google Benchmark output" in r.stderr and (tmp_path / "out" / "seed_comparison.png").is_file()


def test_several_files_merge(tmp_path):
    doc = make_synthetic_results()
    a, b = copy.deepcopy(doc), copy.deepcopy(doc)
    a["records"] = [r for r in doc["records"] if r["stack"] == "lwbench"]
    b["records"] = [r for r in doc["records"] if r["stack"] != "lwbench"]
    b["created_utc"] = "2026-11-25T10:00:00Z"
    b["environment"]["git_revision"] = "fedcba9876543210"
    b["environment"]["git_dirty"] = False
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    fig = plot_seed([pa, pb])
    text = _texts(fig)
    assert "lwbench · socket API" in text and "lwip-2.1.3 · socket API" in text
    # both environments in the footer
    assert "git 0123456+dirty" in text and "git fedcba9" in text


def test_several_runs_are_overlaid_never_dropped(tmp_path):
    doc = make_synthetic_results()
    other = copy.deepcopy(doc)
    other["created_utc"] = "2026-12-01T00:00:00Z"
    other["environment"]["hostname"] = "intelhost"
    for r in other["records"]:
        r["latency_ns"]["p50"] *= 2
    rs = load_results([doc, other])
    recs = [r for r in rs.records if r["scenario"] == "send_latency" and r["payload_bytes"] == 1458
            and r["pinning"] == "separate_cores" and r["stack"] == "lwbench"]
    chosen, notes = choose(recs, keep=("api", "threading_mode"))
    assert len(chosen) == 10 and {r["_doc"] for r in chosen} == {0, 1}  # both runs kept
    assert any("2 runs overlaid" in n and "intelhost" in n for n in notes)
    fig = plot_latency_cdf([doc, other])
    labels = [t.get_text() for ax in fig.axes for t in (ax.get_legend().get_texts() if ax.get_legend() else [])]
    assert any("testhost" in lab for lab in labels) and any("intelhost" in lab for lab in labels)


def test_duplicates_within_one_run_keep_newest(tmp_path):
    doc = make_synthetic_results()
    newer = copy.deepcopy(doc["records"])
    for r in newer:
        r["latency_ns"]["p50"] *= 2
    doc["records"] += newer
    rs = load_results([doc])
    recs = [r for r in rs.records if r["scenario"] == "send_latency" and r["payload_bytes"] == 1458
            and r["pinning"] == "separate_cores" and r["stack"] == "lwbench"]
    chosen, notes = choose(recs, keep=("api", "threading_mode"))
    assert len(chosen) == 5
    assert all(r["_order"][2] >= len(newer) for r in chosen)  # the later records of the file
    assert any("duplicate" in n for n in notes)


def test_missing_optional_keys(tmp_path):
    """Minimal records (no ladder, counters, spread, kinds) still plot or skip cleanly."""
    doc = make_synthetic_results()
    slim = []
    for r in doc["records"]:
        if r["scenario"] != "send_latency" or r["payload_bytes"] != 1458 or r["pinning"] != "same_core":
            continue
        keep = {k: r[k] for k in ("stack", "scenario", "api", "threading_mode", "payload_bytes", "pinning")}
        keep["latency_ns"] = {"p50": r["latency_ns"]["p50"]}
        slim.append(keep)
    doc["records"] = slim
    doc["environment"] = {}
    fig = plot_seed(doc)
    assert "ctx switches/call: MP n/a" in _texts(fig)  # absent counter: n/a, not 0
    with pytest.raises(NoData):
        plot_latency_cdf(doc)  # no ladders
    with pytest.raises(NoData):
        plot_throughput(doc)
    with pytest.raises(NoData):
        plot_floor(doc)


def test_rejects_other_documents(tmp_path):
    with pytest.raises(ValueError, match="schema"):
        load_results({"schema": "something.else", "schema_version": 1, "records": []})
    with pytest.raises(ValueError, match="schema_version"):
        load_results({"schema": "lwbench.results", "schema_version": 99, "records": []})


def test_facets_split_pinning_and_stack_and_keep_a_target_apart():
    from lwbench_plots.common import facets

    def rec(stack, pinning, target=None):
        return {"stack": stack, "pinning": pinning,
                "lwip_options": {"target": target, "cpu": "Cortex-M3", "board": "mps2-an385", "emulator": "QEMU"}
                if target else None}

    records = [rec("lwip-2.1.3", "none", "cortex-m3-qemu"), rec("lwip-2.1.3", "same_core"),
               rec("lwbench", "separate_cores"), rec("lwbench", "same_core")]
    assert [f.title for f in facets(records)] == [
        "pinning same_core · stack lwbench", "pinning same_core · stack lwip-2.1.3",
        "pinning separate_cores · stack lwbench", "emulated Cortex-M3 (QEMU mps2-an385) · stack lwip-2.1.3"]
    # one stack only: one row per pinning, no stack in the title
    assert [f.title for f in facets(records[2:])] == ["pinning same_core", "pinning separate_cores"]
    assert sum(len(f.records) for f in facets(records)) == len(records)


def test_png_is_a_compressed_palette_image_and_svg_is_optional(synthetic_results_path, tmp_path):
    from PIL import Image

    from lwbench_plots.common import PNG_PALETTE_COLOURS, save_figure

    fig = plot_seed(synthetic_results_path)
    (png,) = save_figure(fig, tmp_path, "seed", dpi=80, svg=False)
    with Image.open(png) as image:
        assert image.mode == "P" and len(image.getcolors(PNG_PALETTE_COLOURS)) <= PNG_PALETTE_COLOURS
        assert image.size == (round(fig.get_figwidth() * 80), round(fig.get_figheight() * 80))
    assert not (tmp_path / "seed.svg").exists()
