"""The exit codes of every ``related-reading`` command, defined once.

cron, systemd units and monitoring branch on these numbers, so they are part of the interface:
a command never invents its own.
"""

from __future__ import annotations

OK = 0
FAILED = 1  # an operation failed (database unreachable, a fetch failed, the build failed)
USAGE = 2  # bad input or bad settings: nothing was changed
LOCKED = 75  # EX_TEMPFAIL: another reindex holds the lock; try again later
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
