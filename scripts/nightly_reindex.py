#!/usr/bin/env python3
"""Cron entry point for the nightly reindex: ``related-reading reindex`` under another name.

Exit codes: 0 success, 1 failure (the previous build keeps serving), 2 bad settings or arguments,
75 another reindex is still running. The last line printed is a JSON summary.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from recommender.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["reindex", *sys.argv[1:]]))
