"""Skip a test whose real service is missing, unless the run requires every service.

CI sets REQUIRE_SERVICES=1: there a missing PostgreSQL, Redis, browser or docker-compose
is a failure, not a quiet skip. On a laptop without them the test is skipped instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def require_or_skip(reason: str) -> NoReturn:
    """Fail with `reason` under REQUIRE_SERVICES=1, otherwise skip with it."""
    if services_required():
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 requires it)", pytrace=False)
    pytest.skip(reason)


def needs_service(name: str, available: bool) -> None:
    """Call at the start of a test (or fixture) that needs service `name`."""
    if not available:
        require_or_skip(f"{name} is not available")
