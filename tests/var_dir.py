"""A pytest plugin (pyproject's `addopts`): the suite gets a `var/` folder of its own.

On the embedded defaults the filesystem broker, the mail files and beat's schedule live
under `REBOUND_VAR_DIR` (default `var/`). A `make run` beside the suite shares that folder,
and its worker would take the task a test publishes (and the test's worker the server's).
Set before pytest-django loads the settings, which read it once; an explicit
REBOUND_VAR_DIR is kept.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    if os.environ.get("REBOUND_VAR_DIR"):
        return
    var_dir = tempfile.mkdtemp(prefix="rebound-test-var-")
    os.environ["REBOUND_VAR_DIR"] = var_dir
    early_config.add_cleanup(lambda: shutil.rmtree(var_dir, ignore_errors=True))
