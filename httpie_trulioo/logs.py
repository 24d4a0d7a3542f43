"""The plugin's and the command's log: one line per event on stderr, prefixed ``httpie-trulioo:``."""

from __future__ import annotations

import logging
import os
import sys

from .settings import LOG_LEVELS


def log_to_stderr() -> None:
    """Show warnings on stderr; also decisions with TRULIOO_LOG=info, and lock waits with debug.

    A bad TRULIOO_LOG value is reported at request time, with the other settings.
    """
    logger = logging.getLogger("httpie_trulioo")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("httpie-trulioo: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    level = os.environ.get("TRULIOO_LOG", "").strip().lower()
    logger.setLevel(level.upper() if level in LOG_LEVELS else logging.WARNING)
