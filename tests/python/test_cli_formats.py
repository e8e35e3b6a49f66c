"""The `lwbench` command as a tool: exit codes, "did you mean", --version, defaults in
--help, --format table|json|csv|markdown (stdout carries only the result, progress
goes to stderr), the CSV at full precision with run metadata, the environment
fields, checks made before anything is measured, and the hand-over of compare and
report to `python3 -m lwbench`.

Runs are tiny (--ops 200 --repetitions 1 --warmup 50): these tests check behaviour,
never timing."""

import csv
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LWBENCH_BUILD_DIR", REPO / "build" / "release")) / "harness" / "lwbench"
PYTHON = "/usr/bin/python3"
TINY = ["--ops", "200", "--repetitions", "1", "--warmup", "50"]
USAGE_EXIT = 2

pytestmark = pytest.mark.skipif(not BIN.exists(), reason=f"lwbench not built at {BIN}")


def lwbench(*args, timeout=120):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout)


def tiny_run(tmp_path, *extra):
    """Two points (socket API, both modes) on one core, saved under tmp_path."""
    return lwbench("run", "--api", "socket", "--mode", "message_passing,core_locking", "--pinning", "same_core",
                   *TINY, "--out-dir", str(tmp_path), *extra)


# ---- exit codes and messages ------------------------------------------------------


def test_version_prints_version_and_revision_and_exits_0_without_a_command():
    r = lwbench("--version")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"lwbench \d+\.\d+\.\d+ \(git ([0-9a-f]{40}|unknown)(, uncommitted changes)?\)\n", r.stdout)
    assert r.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["run", "--pinnning", "same_core"], "unknown option '--pinnning' for 'lwbench run'; did you mean '--pinning'?"),
    (["run", "--repetiton=3"], "did you mean '--repetitions'?"),
    (["run", "--mode", "core_lockin"], "unknown mode 'core_lockin'; did you mean 'core_locking'?"),
    (["run", "--mode", "message_passing,core_lock"], "did you mean 'core_locking'?"),
    (["run", "--pinning", "same-core"], "did you mean 'same_core'?"),
    (["run", "--mailbox", "tbb_queu"], "did you mean 'tbb_queue'?"),
    (["run", "--format", "jsn"], "unknown format 'jsn'; did you mean 'json'?"),
    (["list", "--format", "xml"], "unknown format 'xml'"),
    (["list", "--json"], "unknown option '--json' for 'lwbench list'; did you mean '--format json'?"),
    (["run", "--csv"], "did you mean '--format csv'?"),
    (["run", "-"], "lwbench run"),
    (["run", "-x"], "unknown option '-x' for 'lwbench run'"),
    (["reprodce"], "unknown command 'reprodce'; did you mean 'reproduce'?"),
    (["comapre", "a.json", "b.json"], "did you mean 'compare'?"),
    ([], "A subcommand is required"),
    (["run", "--repetitions", "0"], "--repetitions"),
    (["run", "--size", "12x"], "--size must be a whole number, got '12x'"),
    (["run", "--threads", "0"], "--threads must be between 1 and 64"),
    (["run", "--size", "9000"], "does not fit the loopback MTU"),
    (["run", "--scenario", "recv_latency", "--api", "raw"], "no raw variant"),
    (["run", "--label", "a/b"], "label 'a/b' may hold only"),
    (["run", "--label", ".hidden"], "must not start with"),
    (["reproduce", "--no-such-flag"], "unknown option '--no-such-flag' for 'lwbench reproduce'"),
])
def test_every_usage_error_exits_2_with_what_is_wrong(tmp_path, args, message):
    out = tmp_path / "out"
    if args and args[0] in ("run", "reproduce"):
        args = [*args, "--out-dir", str(out)]
    r = lwbench(*args)
    assert r.returncode == USAGE_EXIT, (r.returncode, r.stderr)
    assert message in r.stderr
    assert r.stderr.startswith("lwbench: ")
    assert r.stdout == ""
    assert not out.exists() or list(out.iterdir()) == []  # nothing written


def test_unknown_value_lists_the_choices_and_gives_no_wild_guess():
    r = lwbench("run", "--api", "tcp")
    assert r.returncode == USAGE_EXIT
    assert "unknown API 'tcp' (choose from: raw, netconn, socket)" in r.stderr
    assert "did you mean" not in r.stderr


def test_help_shows_the_defaults():
    r = lwbench("run", "--help")
    assert r.returncode == 0
    for option, default in [("--ops", "=20000"), ("--repetitions", "=5"), ("--warmup", "=2000"),
                            ("--format", "=table"), ("--label", "=run"), ("--size", "=[1458]"),
                            ("--mode", "=[message_passing,core_locking]")]:
        line = next(l for l in r.stdout.splitlines() if l.strip().startswith(option + " "))
        assert default in line, line
    assert "Exit status: 0 success, 1 runtime error, 2 usage error, 130 interrupted" in lwbench("--help").stdout


@pytest.mark.parametrize("command", [
    ["run", "--api", "socket", "--mode", "message_passing,core_locking"],
    ["reproduce", "--no-lwip"],
])
def test_a_bad_out_dir_is_refused_before_anything_is_measured(tmp_path, command):
    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("not a directory")
    # Far too much work to finish within the timeout if it were measured first.
    r = lwbench(*command, "--ops", "100000000", "--repetitions", "1000", "--out-dir", str(in_the_way / "sub"),
                timeout=60)
    assert r.returncode == USAGE_EXIT, r.stderr
    assert "--out-dir: cannot create directory" in r.stderr
    assert "[1/" not in r.stderr and "rounds x" not in r.stderr  # no progress: nothing was measured
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


# ---- --format -----------------------------------------------------------------------


def test_json_format_is_the_result_document_and_progress_stays_on_stderr(tmp_path):
    r = tiny_run(tmp_path, "--format", "json", "--label", "fmtjson", "--seed", "7")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout is nothing but the document
    assert doc["schema"] == "lwbench.results"
    assert len(doc["records"]) == 2
    assert "[1/4" in r.stderr and "[4/4" in r.stderr  # 2 points, each visited timed and counted
    (saved,) = tmp_path.glob("*_fmtjson.json")
    assert f"lwbench: wrote {saved}" in r.stderr
    assert doc["run_id"] == saved.stem
    assert json.loads(saved.read_text())["records"] == doc["records"]


def test_csv_format_has_full_precision_metadata_loss_and_no_empty_columns(tmp_path):
    r = tiny_run(tmp_path, "--format", "csv", "--label", "fmtcsv")
    assert r.returncode == 0, r.stderr
    (saved,) = tmp_path.glob("*_fmtcsv.json")
    # One formatter: what stdout shows is byte for byte the CSV file written next to the JSON.
    assert r.stdout == saved.with_suffix(".csv").read_text()
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 2
    header = list(rows[0].keys())
    assert header[:6] == ["run_id", "git_revision", "hostname", "created_utc", "partial", "git_revision_mismatch"]
    for column in ("p50_ns", "p99_ns", "rel_mad", "ops_per_sec", "context_switches_per_op", "sent", "received",
                   "dropped", "loss_fraction", "sample_basis", "offered_per_sec", "delivered_per_sec",
                   "counted_repetitions", "counter_overhead"):
        assert column in header, column
    assert "primitive" not in header  # empty in every row: left out
    for name in header:
        assert any(row[name] != "" for row in rows), f"all-empty column {name}"
    doc = json.loads(saved.read_text())
    by_mode = {rec["threading_mode"]: rec for rec in doc["records"]}
    env = doc["environment"]
    for row in rows:
        assert row["run_id"] == doc["run_id"] == saved.stem
        assert row["git_revision"] == env["git_revision"] and row["hostname"] == env["hostname"]
        assert row["created_utc"] == doc["created_utc"]
        rec = by_mode[row["threading_mode"]]
        # Full precision: every number reads back exactly as the JSON has it.
        assert float(row["p50_ns"]) == rec["latency_ns"]["p50"]
        assert float(row["p999_ns"]) == rec["latency_ns"]["p999"]
        assert float(row["ops_per_sec"]) == rec["ops_per_sec"]
        assert float(row["bytes_per_sec"]) == rec["bytes_per_sec"]
        counts = rec["stack_counts"]
        assert int(row["sent"]) == counts["sent"] and int(row["received"]) == counts["received"]
        assert float(row["loss_fraction"]) == max(0.0, (counts["sent"] - counts["received"]) / counts["sent"])
        # The newer record fields, each from its own JSON field.
        assert row["partial"] == "false"  # a complete run
        assert row["git_revision_mismatch"] == str(env["git_revision_mismatch"]).lower()
        assert row["sample_basis"] == ("single operations" if rec["ops_per_sample"] == 1
                                       else f"batch means ({rec['ops_per_sample']} ops)")
        assert float(row["offered_per_sec"]) == rec["offered_per_sec"]
        assert float(row["delivered_per_sec"]) == rec["delivered_per_sec"]
        assert int(row["counted_repetitions"]) == rec["counted_repetitions"] >= 1
        assert float(row["counter_overhead"]) == rec["counter_overhead"]
        # Columns that are empty unless something happened: bimodal cells, drops.
        assert (row.get("modes") or "").startswith("bimodal:") == (len(rec["modes"]) >= 2)
        assert (row.get("sample_modes") or "").startswith("bimodal:") == (len(rec["sample_modes"]) >= 2)
        assert (row.get("dropped_by_reason") or "") == ";".join(
            f"{reason}={n}" for reason, n in sorted(counts["dropped_by_reason"].items()))
    assert not re.search(r"\d\.\d{1,5}e\+\d\d", r.stdout)  # no 6-significant-digit scientific numbers


def test_table_format_is_aligned(tmp_path):
    r = tiny_run(tmp_path, "--format", "table", "--no-save")
    assert r.returncode == 0, r.stderr
    lines, warnings = r.stdout.splitlines()[:3], r.stdout.splitlines()[3:]
    # Under the table only what a reader must know about the run (a dirty build says so).
    assert all(w.startswith(("partial run:", "git revision mismatch:")) for w in warnings), warnings
    assert len(lines) == 3 and lines[0].startswith("scenario point")
    assert "samples" in lines[0] and ("single operations" in r.stdout or "batch means (" in r.stdout)
    assert "wrote" not in r.stdout and "[1/" not in r.stdout
    assert len({len(line) for line in lines}) == 1, lines  # right-aligned last column: equal widths
    # every numeric column ends at the same position as its header
    header = lines[0]
    for title in ("p50", "p99.9", "ops/s", "ctxsw/op", "loss"):
        end = header.index(title) + len(title)
        for row in lines[1:]:
            assert row[end - 1] != " " and (end == len(row) or row[end] == " "), (title, row)
    assert list(tmp_path.iterdir()) == []  # --no-save


def test_markdown_format_is_a_table(tmp_path):
    r = tiny_run(tmp_path, "--format", "markdown", "--no-save")
    assert r.returncode == 0, r.stderr
    table, _, warnings = r.stdout.partition("\n\n")  # a blank line ends the table before any run warning
    assert all(w.startswith(("partial run:", "git revision mismatch:")) for w in warnings.splitlines()), warnings
    lines = table.splitlines()
    assert lines[0].startswith("| scenario point | p50 |")
    assert set(lines[1].replace("|", "").split()) <= {"---", "---:"}
    assert len(lines) == 4 and all(l.startswith("| ") and l.endswith(" |") for l in lines)
    assert len({l.count(" | ") for l in lines}) == 1


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_list_formats(fmt):
    r = lwbench("list", "--format", fmt)
    assert r.returncode == 0, r.stderr
    kinds = ("send_latency", "recv_latency", "delivery_latency", "round_trip", "throughput", "primitive", "bulk_tcp",
             "request_response_tcp", "connection_rate_tcp")
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert [s["name"] for s in doc["scenarios"]] == list(kinds)
        assert doc["options"]["--mode"] == ["message_passing", "core_locking", "combining"]
        assert doc["options"]["--format"] == ["table", "json", "csv", "markdown"]
        assert doc["cpus"] == os.cpu_count()
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        assert [row["scenario"] for row in rows] == list(kinds)
        assert all(row["description"] for row in rows)
    else:
        for kind in kinds:
            assert kind in r.stdout


def test_reproduce_formats_json(tmp_path):
    r = lwbench("reproduce", "--no-lwip", *TINY, "--format", "json", "--out-dir", str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["label"] == "reproduce" and doc["records"]
    assert doc["environment"]["warmup_ops"] == 50 and doc["environment"]["seed"] == 1
    # The measuring core's clock share is reported here (a figure, not a test assertion).
    (clock_note,) = [n for n in doc["notes"] if n.startswith("clock overhead: one timestamp pair costs ")]
    assert re.search(r"at most \d+\.\d\d% \(.+\) — target <= 5%: (met|MISSED)$", clock_note), clock_note
    assert "wrote" in r.stderr and "wrote" not in r.stdout
    (report,) = tmp_path.glob("*_reproduce.md")
    # The TCP table follows the seed table, with our cells over every API, in both modes,
    # on the same core and on separate cores (a row per API and pinning).
    text = report.read_text()
    assert text.index("## TCP: our stack and real lwIP") > text.index("## 1458-byte UDP send")
    tcp = {(rec["scenario"], rec["api"], rec["threading_mode"], rec["pinning"]) for rec in doc["records"]
           if rec["scenario"].endswith("_tcp") and rec["stack"] == "lwbench"}
    assert tcp == {(k, a, m, p) for k in ("bulk_tcp", "request_response_tcp", "connection_rate_tcp")
                   for a in ("raw", "netconn", "socket") for m in ("message_passing", "core_locking")
                   for p in ("same_core", "separate_cores")}
    for api in ("raw", "netconn", "socket"):
        for pin in ("same_core", "separate_cores"):
            assert f"| lwbench, {api}, {pin} |" in text, (api, pin)
    # The parallel-connections cells: bulk with 4 connections on the same core, every API
    # and mode, in a table of their own beside the one-connection cells.
    parallel = {(rec["api"], rec["threading_mode"]) for rec in doc["records"]
                if rec["scenario"] == "bulk_tcp" and rec["stack"] == "lwbench" and rec["app_threads"] == 4
                and rec["pinning"] == "same_core"}
    assert parallel == {(a, m) for a in ("raw", "netconn", "socket") for m in ("message_passing", "core_locking")}
    assert text.index("### TCP bulk, 1 and 4 connections in parallel") > text.index("## TCP: our stack and real lwIP")
    for api in ("raw", "netconn", "socket"):
        assert f"| lwbench, {api} | " in text, api


RUNNERS = Path(os.environ.get("LWBENCH_LWIP_RUNNERS", BIN.parents[1] / "real_lwip"))


def test_reproduce_with_real_lwip_records_say_their_sched_policy(tmp_path):
    # Real lwIP's runners apply reproduce's --sched and say so in every record; a record
    # without sched_policy was dropped from the seed figure's panels.
    if not (RUNNERS / "lwip_runner_locking").exists():
        pytest.skip(f"real-lwIP runners not built at {RUNNERS}")
    r = lwbench("reproduce", *TINY, "--format", "json", "--out-dir", str(tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    lwip = [rec for rec in doc["records"] if rec["stack"].startswith("lwip-")]
    assert {rec["threading_mode"] for rec in lwip if rec["scenario"] == "send_latency"} == {
        "message_passing", "core_locking"}
    assert {rec.get("sched_policy") for rec in doc["records"]} == {"other"}
    # Real lwIP's TCP cells over every API in both builds (stock port), one connection on
    # both pinnings and 4 in parallel on the same core, every byte delivered; the report
    # prints them and ours / real lwIP per API.
    tcp = {(rec["scenario"], rec["api"], rec["threading_mode"], rec["pinning"], rec["app_threads"])
           for rec in lwip if rec["scenario"].endswith("_tcp")}
    apis, modes = ("raw", "netconn", "socket"), ("message_passing", "core_locking")
    assert tcp == ({(k, a, m, p, 1) for k in ("bulk_tcp", "request_response_tcp", "connection_rate_tcp")
                    for a in apis for m in modes for p in ("same_core", "separate_cores")}
                   | {("bulk_tcp", a, m, "same_core", 4) for a in apis for m in modes})
    for rec in lwip:
        if rec["scenario"].endswith("_tcp"):
            where = f"{rec['scenario']}/{rec['api']}/{rec['threading_mode']}/{rec['app_threads']}"
            assert rec["errors"] == 0, where
            assert rec["stack_counts"]["received"] == rec["stack_counts"]["sent"] > 0, where
    (report,) = tmp_path.glob("*_reproduce.md")
    text = report.read_text()
    for api in apis:
        for pin in ("same_core", "separate_cores"):
            assert re.search(rf"\| lwip-[^,|]+, {api}, {pin} \|", text), (api, pin)
            assert f"| lwbench / real lwIP, {api}, {pin} (> 1: ours better) |" in text, (api, pin)
        assert re.search(rf"\| lwip-[^,|]+, {api} \| ", text), api  # the parallel table's row
        assert f"| lwbench / real lwIP, {api} (> 1: ours better) |" in text, api


# ---- TCP scenario kinds (our stack: raw, netconn, socket) ------------------------------------------------


def assert_every_op_delivered(rec, ops, where):
    """A TCP record without errors (every received byte matched the pattern) whose ops
    (writes, transactions, connections) were all sent and delivered in every visit."""
    assert rec["errors"] == 0, where
    counts = rec["stack_counts"]
    visits = rec["repetitions"] + rec["counted_repetitions"]
    assert counts["sent"] == ops * visits and counts["received"] == counts["sent"], (where, counts)
    return counts


def test_tcp_kinds_deliver_every_byte_and_count_every_op(tmp_path):
    r = lwbench("run", "--scenario", "bulk_tcp,request_response_tcp,connection_rate_tcp", "--api", "raw",
                "--size", "64,1458", "--pinning", "same_core", *TINY, "--format", "json", "--no-save", timeout=300)
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)["records"]
    assert len(recs) == 3 * 2 * 2  # kinds x sizes x modes
    for rec in recs:
        where = f"{rec['scenario']}/{rec['threading_mode']}/{rec['payload_bytes']}"
        counts = assert_every_op_delivered(rec, 200, where)
        assert counts["dropped"] == 0, (where, counts)
        assert rec["ops_per_sec"] > 0 and rec["latency_ns"]["p50"] > 0, where
        if rec["scenario"] == "bulk_tcp":
            # delivered bytes/s is delivered writes/s x write size
            assert rec["bytes_per_sec"] == pytest.approx(rec["ops_per_sec"] * rec["payload_bytes"]), where
            assert counts["payload_copies_per_op"] == 0, where  # no-copy writes, zero-copy loopback
        if rec["scenario"] == "connection_rate_tcp":
            # raw: the client's connect and its close, each run in core context the mode's
            # way (stack::call); the server end lives in core callbacks and sends none.
            assert counts["api_messages_per_op"] == 2, (where, counts)


# API messages of one connection_rate_tcp op (connect + accept + one exchange + close)
# over our netconn API; every call below that enters the core is one API message
# (posted to the tcpip thread, run under the core lock, or combined: the stack counts
# each). The client thread: netconn_new (the pcb is made in core context) 1,
# netconn_set_nodelay 1, netconn_connect 1 (tcp_connect; the wait for the SYN-ACK is on
# the netconn's semaphore), netconn_write of one request (within one send buffer) 1,
# netconn_recv_tcp of the one-segment reply 1 (its window update, netconn_tcp_recvd),
# netconn_delete 1 (the close) = 6. The server thread: netconn_accept 0 (it takes the
# connection the core put in the accept mailbox), netconn_set_nodelay 1,
# netconn_recv_tcp of the request 1, netconn_write of the reply 1, netconn_delete 1 = 4.
# The socket API makes the same calls: lwip_socket is netconn_new; of setsockopt only
# TCP_NODELAY enters the core (SO_RCVTIMEO/SO_SNDTIMEO are stored in the netconn);
# accept, send, recv and close map one to one. (Real lwIP 2.1.3 differs: netconn_accept
# sends lwip_netconn_do_accepted with a listen backlog, and it sets TCP_NODELAY on the
# pcb directly from the application thread.) The count is exact because the scenario
# waits for the server thread's close before each snapshot of the counts
# (tcp_pair::wait_server_finished).
CONNECTION_API_MESSAGES = 10


def test_tcp_kinds_over_netconn_and_socket_in_every_mode_count_every_api_message():
    """Our stack's netconn and socket APIs in the three TCP kinds, every threading mode,
    same core and separate cores: every byte delivered and checked, and the per-op counts
    that are exact by construction (a request/response transaction is one write and one
    window update at each end: 4 API messages, 2 of them window updates, in every mode;
    a connection is 10, see CONNECTION_API_MESSAGES)."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("separate_cores needs at least 2 CPUs")
    r = lwbench("run", "--scenario", "bulk_tcp,request_response_tcp,connection_rate_tcp", "--api", "netconn,socket",
                "--mode", "message_passing,core_locking,combining", "--size", "1458",
                "--pinning", "same_core,separate_cores", "--ops", "100", "--repetitions", "1", "--warmup", "20",
                "--format", "json", "--no-save", timeout=300)
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)["records"]
    assert len(recs) == 3 * 2 * 3 * 2  # kinds x APIs x modes x pinnings
    for rec in recs:
        where = f"{rec['scenario']}/{rec['api']}/{rec['threading_mode']}/{rec['pinning']}"
        counts = assert_every_op_delivered(rec, 100, where)
        assert counts["retransmissions_per_op"] == 0, (where, counts)  # no loss on the loopback
        if rec["scenario"] == "request_response_tcp":
            assert counts["api_messages_per_op"] == 4, (where, counts)
            assert counts["window_update_calls_per_op"] == 2, (where, counts)
            assert counts["write_waits_per_op"] == 0, (where, counts)
        if rec["scenario"] == "connection_rate_tcp":
            assert counts["api_messages_per_op"] == CONNECTION_API_MESSAGES, (where, counts)
            assert counts["window_update_calls_per_op"] == 2, (where, counts)  # one receive at each end
            assert counts["write_waits_per_op"] == 0, (where, counts)
        if rec["scenario"] == "bulk_tcp":
            assert counts["api_messages_per_op"] >= 1, (where, counts)  # the write, plus the receiver's updates
            if rec["api"] == "netconn":
                assert counts["payload_copies_per_op"] == 0, where  # no-copy writes, pbufs received as they are


def test_bulk_tcp_runs_parallel_connections_and_delivers_them_all():
    r = lwbench("run", "--scenario", "bulk_tcp", "--api", "raw,netconn,socket", "--threads", "3", "--size", "1458",
                "--pinning", "same_core", *TINY, "--format", "json", "--no-save", timeout=300)
    assert r.returncode == 0, r.stderr
    recs = json.loads(r.stdout)["records"]
    assert len(recs) == 3 * 2  # APIs x modes
    for rec in recs:
        where = f"{rec['api']}/{rec['threading_mode']}"
        assert rec["app_threads"] == 3, where
        assert_every_op_delivered(rec, 3 * 200, where)  # each connection's sender: 200 writes
        assert rec["bytes_per_sec"] == pytest.approx(rec["ops_per_sec"] * rec["payload_bytes"]), where


# ---- environment ----------------------------------------------------------------------


def test_environment_has_every_field_as_a_value_or_not_available(tmp_path):
    r = tiny_run(tmp_path, "--format", "json", "--no-save", "--seed", "7")
    assert r.returncode == 0, r.stderr
    env = json.loads(r.stdout)["environment"]
    na = "not available"
    assert env["warmup_ops"] == 50 and env["seed"] == 7
    for key in ("load_average_start", "load_average_end"):
        assert env[key] == na or (len(env[key]) == 3 and all(x >= 0 for x in env[key])), env[key]
    assert env["cpu_frequency_mhz"] == na or (len(env["cpu_frequency_mhz"]) >= 1
                                              and all(f > 0 for f in env["cpu_frequency_mhz"]))
    assert env["cpu_frequency_source"] in (na, "cpufreq scaling_cur_freq", "/proc/cpuinfo cpu MHz")
    assert isinstance(env["cpu_governor"], str) and env["cpu_governor"]
    assert env["affinity"] == na or re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*", env["affinity"])
    assert env["affinity"] == na or env["affinity"] == _affinity_ranges()
    assert env["nice"] == na or env["nice"] == os.nice(0)
    assert isinstance(env["smt"], str)
    assert set(env["virtualization"]) == {"vm", "container"}
    # never a fake 0 or empty text for a value that could not be read
    for value in (env["cpu_frequency_mhz"], env["cpu_governor"], env["smt"], *env["virtualization"].values()):
        assert value not in (0, "0", ""), value


def _affinity_ranges() -> str:
    cpus = sorted(os.sched_getaffinity(0))
    parts, start = [], None
    for i, cpu in enumerate(cpus):
        if start is None:
            start = cpu
        if i + 1 == len(cpus) or cpus[i + 1] != cpu + 1:
            parts.append(str(start) if start == cpu else f"{start}-{cpu}")
            start = None
    return ",".join(parts)


# ---- compare and report go to python3 -m lwbench -----------------------------------


def _python_side(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    return subprocess.run([PYTHON, "-m", "lwbench", *args], capture_output=True, text=True, timeout=120, env=env)


def _python_has(command: str) -> bool:
    return _python_side(command, "--help").returncode == 0


@pytest.mark.parametrize("command", ["compare", "report"])
def test_delegated_commands_pass_arguments_untouched_and_propagate_the_exit_status(tmp_path, command):
    args = [command, str(tmp_path / "missing base.json"), "--weird=a,b", "", "ünï", str(tmp_path / "new.json")]
    through_cli = lwbench(*args)
    direct = _python_side(*args)
    assert through_cli.returncode != 0  # missing files (or, until it lands, an unknown command)
    assert (through_cli.returncode, through_cli.stdout, through_cli.stderr) == \
        (direct.returncode, direct.stdout, direct.stderr)


def test_compare_of_missing_files_fails():
    if not _python_has("compare"):
        pytest.skip("python3 -m lwbench compare is not implemented yet (python/lwbench)")
    r = lwbench("compare", "/nonexistent/base.json", "/nonexistent/new.json")
    assert r.returncode not in (0, None)
    assert "nonexistent" in r.stderr


def test_report_of_a_missing_file_fails(tmp_path):
    if not _python_has("report"):
        pytest.skip("python3 -m lwbench report is not implemented yet (python/lwbench)")
    r = lwbench("report", "/nonexistent/run.json", "-o", str(tmp_path / "r.html"))
    assert r.returncode != 0
    assert not (tmp_path / "r.html").exists()


def test_compare_through_the_cli_judges_a_run_against_itself(tmp_path):
    if not _python_has("compare"):
        pytest.skip("python3 -m lwbench compare is not implemented yet (python/lwbench)")
    assert tiny_run(tmp_path, "--label", "base", "--quiet").returncode == 0
    (base,) = tmp_path.glob("*_base.json")
    r = lwbench("compare", str(base), str(base), "--threshold", "5", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["threshold"] == 0.05 and len(doc["comparisons"]) == 2
    assert doc["counts"]["slower"] == 0
    bad = lwbench("compare", str(base), str(base), "--threshold", "fast")
    assert bad.returncode == USAGE_EXIT  # Python's usage error, propagated
