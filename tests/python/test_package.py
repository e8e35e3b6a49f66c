"""The lwbench package as users meet it: installed with pip into a venv, typed errors, docstrings,
`Stack` as a class, `__version__`, `to_dataframe()`, and saved files that record every parameter."""

import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_synthetic_results, write_result
import lwbench
from lwbench import _ext

PYTHON = "/usr/bin/python3"


def _extension_built() -> bool:
    return _ext.problem() is None


needs_extension = pytest.mark.skipif(not _extension_built(), reason="the _lwbench extension is not built "
                                     "(cmake --preset release && cmake --build --preset release)")


def test_venv_install_works_offline_without_pythonpath(tmp_path):
    for module in ("venv", "pip", "setuptools", "wheel"):
        if subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True).returncode != 0:
            pytest.skip(f"Debian's python3-{module} is missing (scripts/install-deps.sh installs it)")
    venv = tmp_path / "venv"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index",
                          str(REPO / "python")], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    py = str(venv / "bin" / "python")
    run = lambda *a: subprocess.run([py, *a], capture_output=True, text=True, cwd=tmp_path, env=env,  # noqa: E731
                                    timeout=300)
    r = run("-c", "import lwbench, sys; print(lwbench.__version__); print(lwbench.__file__)")
    assert r.returncode == 0, r.stderr
    version, location = r.stdout.split()
    assert version == lwbench.__version__
    assert str(venv) in location  # the installed copy, not the checkout
    r = run("-m", "lwbench", "--help")
    assert r.returncode == 0 and "compare" in r.stdout and "report" in r.stdout
    # the installed package knows its checkout: plots and (when built) the extension are found
    r = run("-c", "import lwbench._paths as p, lwbench_plots; print(p.checkout())")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == REPO
    if _extension_built():
        r = run("-c", "import lwbench; print(len(lwbench.scenarios()))")
        assert r.returncode == 0 and int(r.stdout) >= 5, r.stderr


@pytest.mark.parametrize("kwargs, parameter", [
    ({"size": "big"}, "size"),
    ({"size": [64, "big"]}, "size"),
    ({"ops": "100"}, "ops"),
    ({"repetitions": 2.5}, "repetitions"),
    ({"pinning": ["same_core", None]}, "pinning"),
    ({"api": 3}, "api"),
    ({"threads": True}, "threads"),
    ({"hardware_counters": "yes"}, "hardware_counters"),
    ({"save": 7}, "save"),
])
def test_type_errors_name_the_parameter(kwargs, parameter):
    with pytest.raises(TypeError, match=rf"^{parameter} "):
        lwbench.run(**kwargs)


def test_value_errors_before_measuring():
    with pytest.raises(ValueError, match="ops must be at least 1"):
        lwbench.run(ops=0)
    with pytest.raises(TypeError, match="warmup"):
        lwbench.reproduce(warmup="10")


def test_public_names_have_docstrings_and_version():
    import re

    assert isinstance(lwbench.__version__, str) and lwbench.__version__.count(".") == 2
    cmake = re.search(r"project\(lwbench VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text())
    assert cmake and cmake.group(1) == lwbench.__version__  # one version for the C++ and Python sides
    assert inspect.isclass(lwbench.Stack)
    missing = []
    for name in lwbench.__all__:
        obj = getattr(lwbench, name)
        if callable(obj) and not (inspect.getdoc(obj) or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if not member.startswith("_") and callable(value) and not (inspect.getdoc(value) or "").strip():
                    missing.append(f"{name}.{member}")
    for module in ("compare", "report", "results", "formatting", "machine", "params", "profile", "perf_tool",
                   "mode_diff", "perf_fold"):
        mod = importlib.import_module(f"lwbench.{module}")
        assert (mod.__doc__ or "").strip(), module
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{module}.{name}")
    assert missing == []


def test_to_dataframe(tmp_path):
    pd = pytest.importorskip("pandas", reason="pandas (python3-pandas) is optional")
    res = lwbench.load(write_result(tmp_path / "a.json", make_synthetic_results()))
    df = res.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == len(res)
    assert {"stack", "scenario", "p50_ns", "p999_ns", "rel_mad", "loss", "context_switches_per_op"} <= set(df.columns)
    assert df["p50_ns"].iloc[0] == res.records[0]["latency_ns"]["p50"]


def test_to_dataframe_without_pandas_says_what_to_install(tmp_path, monkeypatch):
    res = lwbench.load(write_result(tmp_path / "a.json", make_synthetic_results()))
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match="python3-pandas"):
        res.to_dataframe()


@needs_extension
def test_saved_file_records_every_parameter(tmp_path):
    res = lwbench.run(api="raw", mode="core_locking", repetitions=1, ops=200, warmup=17, seed=42, progress=False,
                      save=tmp_path)
    doc = json.loads(Path(res.path).read_text())
    assert "warmup=17" in doc["command"] and "seed=42" in doc["command"] and "ops=200" in doc["command"]
    params_note = next(n for n in doc["notes"] if n.startswith("python parameters: "))
    params = json.loads(params_note.split(": ", 1)[1])
    assert params["warmup"] == 17 and params["seed"] == 42 and params["repetitions"] == 1
    assert params["api"] == ["raw"] and params["pinning"] == ["none"]
    # The environment has the run's facts as values, as a file written by the CLI has them.
    env = doc["environment"]
    assert env["warmup_ops"] == 17 and env["seed"] == 42
    assert env["load_average_start"] == "not available" or len(env["load_average_start"]) == 3
    assert env["load_average_end"] == "not available" or len(env["load_average_end"]) == 3
    assert doc["created_utc"] == res.run_context.started_utc  # the run's start, not the save's
    assert doc["run_id"].startswith(res.run_context.started_utc[:10].replace("-", ""))


@needs_extension
def test_a_loaded_file_saved_again_says_not_available_instead_of_guessing(tmp_path):
    res = lwbench.load(write_result(tmp_path / "a.json", make_synthetic_results()))
    assert res.run_context is None
    env = json.loads(Path(res.save(tmp_path / "out", label="again")).read_text())["environment"]
    assert env["warmup_ops"] == "not available" and env["seed"] == "not available"


@needs_extension
def test_stack_class():
    s = lwbench.Stack(mode="message_passing")
    assert isinstance(s, lwbench.Stack) and s.mode == "message_passing"
    with pytest.raises(TypeError, match="^mode "):
        s.set_mode(1)
    with pytest.raises(TypeError, match="^count "):
        s.exchange("10")
