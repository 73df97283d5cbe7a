"""gunicorn's configuration for ``related-reading serve``: ``gunicorn -c python:web.gunicorn_conf``.

gunicorn executes this module once, in its master, before it loads the app, and reads every
module-level name that is one of its settings. That order is why the metrics directory is claimed
here: prometheus-client picks single- or multi-process mode when the app first imports it.
The command line (``--bind``, ``--workers``, ``--threads``, ``--access-logfile``) overrides these.
"""

from __future__ import annotations

from web.server import claim_metrics_dir, gunicorn_options

claim_metrics_dir()
globals().update(gunicorn_options())  # gunicorn reads its settings from module attributes
