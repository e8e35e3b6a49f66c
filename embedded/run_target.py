#!/usr/bin/python3
"""run_target.py — build the Cortex-M3 benchmark firmware and run it under QEMU.

Builds embedded/ (lwIP built with core locking and with message passing, each
also without checksums) with the
arm-none-eabi toolchain, runs each ELF on QEMU's mps2-an385 board with
`-icount shift=N` (time = executed instructions x 2^N ns: deterministic, an
instruction-count model, not a cycle-accurate one), bounded in time, and
collects the firmware's console lines (one JSON object per line, see
embedded/firmware/bench.c).

Output: one JSON document, the *raw target run* (schema "lwbench.target_raw"),
on stdout or in --out (written atomically, never over an existing file).
`lwbench reproduce --target cortex-m3-qemu` runs this script and turns the
document into lwbench records (harness/src/target_runner.cpp).

Exit status: 0 on success, 1 if a step failed (the message says which), 2 on
bad arguments.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMBEDDED = os.path.join(REPO, "embedded")
TARGET = "cortex-m3-qemu"
MACHINE = "mps2-an385"
BUILDS = (("core_locking", "lwbench_fw_locking.elf"), ("message_passing", "lwbench_fw_msgpassing.elf"),
          ("core_locking", "lwbench_fw_locking_nochecksums.elf"),
          ("message_passing", "lwbench_fw_msgpassing_nochecksums.elf"))


class Failure(Exception):
    """A step failed; the message says which and why."""


def progress(args, message):
    if not args.quiet:
        print(f"run_target: {message}", file=sys.stderr, flush=True)


def require_tools():
    missing = [t for t in ("cmake", "arm-none-eabi-gcc", "qemu-system-arm") if shutil.which(t) is None]
    if missing:
        raise Failure("missing tools: " + ", ".join(missing) +
                      " (Debian packages: cmake gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm;"
                      " scripts/install-deps.sh installs them)")


def default_lwip_dir():
    """Reuse the lwIP tree the host build already fetched, if there is one."""
    for preset in ("release", "debug", "asan", "tsan"):
        tree = os.path.join(REPO, "build", preset, "real_lwip", "src")
        if os.path.exists(os.path.join(tree, ".lwbench-unpacked")):
            return tree
    return ""


def build(args):
    configure = ["cmake", "-S", EMBEDDED, "-B", args.build_dir,
                 "-DCMAKE_TOOLCHAIN_FILE=" + os.path.join(EMBEDDED, "cmake", "arm-none-eabi.cmake"),
                 f"-DLWBENCH_FW_OPS={args.ops}", f"-DLWBENCH_FW_REPS={args.repetitions}",
                 f"-DLWBENCH_FW_WARMUP={args.warmup}", "-DLWBENCH_LWIP_DIR=" + args.lwip_dir]
    progress(args, "configuring the firmware in " + args.build_dir)
    run_step(configure, "cmake configure of embedded/")
    progress(args, "building the firmware (lwIP 2.1.3: both threading modes, with and without checksums)")
    run_step(["cmake", "--build", args.build_dir, "-j", str(args.jobs)], "firmware build")


def run_step(command, what):
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise Failure(f"{what} failed (exit {done.returncode}):\n{done.stdout[-4000:]}")


def qemu_command(elf, shift):
    return ["qemu-system-arm", "-M", MACHINE, "-cpu", "cortex-m3",
            "-icount", f"shift={shift},align=off,sleep=off",
            "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-semihosting-config", "enable=on,target=native", "-kernel", elf]


def run_firmware(args, mode, elf):
    command = qemu_command(elf, args.icount_shift)
    progress(args, f"running {os.path.basename(elf)} ({mode}) on QEMU {MACHINE}, icount shift={args.icount_shift}")
    start = time.monotonic()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"{os.path.basename(elf)} did not finish within {args.timeout} s (QEMU killed)")
    elapsed = time.monotonic() - start
    header, reps, end = None, [], None
    for number, line in enumerate(done.stdout.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise Failure(f"{os.path.basename(elf)}: console line {number} is not JSON ({error}): {line[:200]}")
        kind = item.get("kind")
        if kind == "target":
            header = item
        elif kind == "rep":
            reps.append(item)
        elif kind == "end":
            end = item
        elif kind == "panic":
            raise Failure(f"{os.path.basename(elf)} stopped: {item.get('what')}")
    if header is None or end is None:
        raise Failure(f"{os.path.basename(elf)}: incomplete output (exit {done.returncode}); stderr: {done.stderr[-1000:]}")
    if done.returncode != 0:
        raise Failure(f"{os.path.basename(elf)} exited with {done.returncode}: errors={end.get('errors')}, "
                      f"dropped={end.get('zc_dropped')}")
    if header["lwip_options"]["LWIP_TCPIP_CORE_LOCKING"] != (1 if mode == "core_locking" else 0):
        raise Failure(f"{os.path.basename(elf)} reports the wrong LWIP_TCPIP_CORE_LOCKING")
    progress(args, f"  {len(reps)} repetitions in {elapsed:.1f} s")
    return {"build": os.path.basename(elf)[len("lwbench_fw_"):-len(".elf")], "threading_mode": mode,
            "elf": os.path.basename(elf), "qemu_command": command,
            "elapsed_s": round(elapsed, 3), "header": header, "reps": reps, "end": end}


def qemu_version():
    out = subprocess.run(["qemu-system-arm", "--version"], stdout=subprocess.PIPE, text=True).stdout
    return out.splitlines()[0] if out else "unknown"


def write_new_file(path, text):
    """Writes atomically; fails instead of replacing an existing file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".run_target.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "embedded"))
    parser.add_argument("--lwip-dir", default=None,
                        help="lwIP tree (default: the host build's real_lwip/src, else fetch Debian's source)")
    parser.add_argument("--icount-shift", type=int, default=5,
                        help="QEMU -icount shift: 2^N ns per instruction (default 5: 32 ns, ~31 MIPS)")
    parser.add_argument("--ops", type=int, default=500, help="timed operations per repetition")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per QEMU run before it is killed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-build", action="store_true", help="run the ELFs already in --build-dir")
    parser.add_argument("--out", help="write the document here (a new file) instead of stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    if not 0 <= args.icount_shift <= 10:
        parser.error("--icount-shift must be within 0..10")
    for name in ("ops", "repetitions"):
        if not 1 <= getattr(args, name) <= 5000:
            parser.error(f"--{name} must be within 1..5000 (the firmware keeps one repetition's samples in RAM)")
    if not 0 <= args.warmup <= 100000:
        parser.error("--warmup must be within 0..100000")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.out and os.path.exists(args.out):
        parser.error(f"--out {args.out} exists (result files are never overwritten)")
    if args.lwip_dir is None:
        args.lwip_dir = default_lwip_dir()
    return args


def main(argv):
    args = parse_args(argv)
    try:
        require_tools()
        if not args.no_build:
            build(args)
        runs = [run_firmware(args, mode, os.path.join(args.build_dir, elf)) for mode, elf in BUILDS]
    except Failure as failure:
        print(f"run_target: error: {failure}", file=sys.stderr)
        return 1
    document = {
        "schema": "lwbench.target_raw", "schema_version": 1, "target": TARGET,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "emulator": {"name": "qemu-system-arm", "version": qemu_version(), "machine": MACHINE,
                     "icount_shift": args.icount_shift, "ns_per_instruction": 2 ** args.icount_shift,
                     "model": "instruction count (QEMU -icount): every instruction takes 2^shift ns; "
                              "no wait states, caches, pipeline stalls or bus contention"},
        "toolchain": subprocess.run(["arm-none-eabi-gcc", "--version"], stdout=subprocess.PIPE,
                                    text=True).stdout.splitlines()[0],
        "runs": runs,
    }
    text = json.dumps(document, indent=None, separators=(",", ":")) + "\n"
    if args.out:
        write_new_file(args.out, text)
        progress(args, "wrote " + args.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
