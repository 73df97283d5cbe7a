#!/usr/bin/env bash
# README command (a): install everything, load the bundled demo articles into SQLite, build the
# index and serve the demo site with the widget on http://127.0.0.1:8000 (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The data lives where every related-reading command looks by default (RELATED_DATA_DIR, default
# ./var), so the README's next steps (`related-reading users create ada`, ...) find the same database.
export RELATED_DEMO_SITE=1  # mount the demo magazine (off by default: it serves full texts)
.venv/bin/related-reading demo-load
# Build the index and every article's related list (the bundled model, offline; ~1 minute).
.venv/bin/related-reading reindex
echo "==> The Meridian Review with the related-reading widget: http://127.0.0.1:8000/ (Ctrl-C stops)"
exec .venv/bin/related-reading serve --bind 127.0.0.1:8000 --workers 2
