"""Build hook for python/pyproject.toml: record the checkout the package is installed from.

The compiled extension (_lwbench), the plots package and the web assets live in
the checkout (build/<preset>/python, plots/, web/node_modules), not in the
wheel: the installed package reads lwbench/_checkout.py, written here into the
build output only (the source tree is left untouched), to find them.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CHECKOUT = Path(__file__).resolve().parent.parent


class build_py_recording_checkout(build_py):
    """build_py, plus lwbench/_checkout.py naming the checkout."""

    def run(self):
        # pip builds in the source tree (python/build/): start from an empty copy, so a module
        # deleted from the source cannot linger in the wheel.
        shutil.rmtree(Path(self.build_lib) / "lwbench", ignore_errors=True)
        super().run()
        target = Path(self.build_lib) / "lwbench" / "_checkout.py"
        target.write_text('"""Written at install time by python/setup.py: the checkout this package came from."""\n\n'
                          f"CHECKOUT = {str(CHECKOUT)!r}\n")


setup(cmdclass={"build_py": build_py_recording_checkout})
