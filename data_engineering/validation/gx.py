"""The one way the platform imports Great Expectations: its loggers set to WARNING first. GX
narrates its import and every config save at INFO (some 200 lines per gate in a task's log, before
the one that says what failed), and setting the level after the import comes too late."""

from __future__ import annotations

import logging
from types import ModuleType

QUIET_LOGGERS = ("great_expectations", "posthog", "altair", "marshmallow")


def load_gx() -> ModuleType:
    """`great_expectations`, imported quietly (it takes seconds: only when a gate runs)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    import great_expectations

    return great_expectations
