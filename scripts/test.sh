#!/usr/bin/env bash
# README command (b): install everything and run the whole test suite, linters included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# tests/test_browser.py drives Debian's Chromium (never a downloaded browser); without it, it skips.
if [ "$(id -u)" = 0 ]; then
  command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
  # the importer tests start a real WordPress (tests/helpers/wordpress.py) from Debian's packages
  [ -f /usr/share/wordpress/wp-settings.php ] && command -v php >/dev/null || (apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wordpress php-cli \
    php-mysql php-xml php-mbstring php-curl mariadb-server)
fi
echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy (strict on recommender/)"
.venv/bin/mypy recommender
echo "==> pytest"
# pytest exits 5 when it collects no tests: that is a failure here too.
.venv/bin/python -m pytest "$@"
