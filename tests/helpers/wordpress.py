"""A real WordPress for the importer tests: Debian's package, a private MariaDB, PHP's server.

Everything lives in one temporary directory: MariaDB's data directory and socket (on its own
port, never the system server's 3306), a docroot of WordPress's entry points with our own
wp-config.php, wp-content with the uploads, and two PHP built-in servers: the main site with
pretty permalinks at the root and a second site with plain permalinks in ``/blog``. Content comes
from ``wordpress_content`` through WordPress's own PHP API. ``start`` installs the Debian packages
when they are missing and it runs as root (CI); otherwise it raises :class:`Unavailable` with the
reason, which the fixture turns into a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.wordpress_content import main_site_spec, second_site_spec

WORDPRESS = Path("/usr/share/wordpress")
PHP_DIR = Path(__file__).parent / "wordpress_php"
APT_PACKAGES = ("wordpress", "php-cli", "php-mysql", "php-xml", "php-mbstring", "php-curl",
                "mariadb-server")
MAIN_PERMALINKS = "/%year%/%monthnum%/%postname%/"


class Unavailable(Exception):
    """WordPress cannot run here; the message says why (the tests are skipped with it)."""


@dataclass
class WordPressSite:
    """One running site: its root URL, admin credentials and the posts the fixture made."""

    url: str
    db: str
    stack: WordPressStack
    user: str = "admin"
    app_password: str = ""
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {id, link}

    def id(self, key: str) -> int:
        return int(self.posts[key]["id"])

    def link(self, key: str) -> str:
        return str(self.posts[key]["link"])

    def php(self, code: str) -> str:
        """Run PHP inside this site (wp-load.php loaded), e.g. to trash a post; returns stdout."""
        return self.stack.run_php(self, "run.php", code)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing() -> list[str]:
    missing = [] if (WORDPRESS / "wp-settings.php").is_file() else ["wordpress"]
    if not shutil.which("php"):
        missing.append("php-cli")
    if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        missing.append("mariadb-server")
    return missing


def ensure_installed() -> None:
    """Install the Debian packages when missing (root only); Unavailable says what is lacking."""
    missing = _missing()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(f"WordPress tests need {', '.join(missing)} "
                          f"(apt-get install {' '.join(APT_PACKAGES)}) and are not root to install")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
    done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600, check=False)
    if done.returncode != 0:  # stale or missing package lists: update once and retry
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600,
                       check=False)
        done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600,
                              check=False)
    if done.returncode != 0 or _missing():
        raise Unavailable(f"apt-get install {' '.join(APT_PACKAGES)} failed: {done.stderr[-500:]}")


def _wait(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise Unavailable(f"{what} did not start within {timeout:g} s")


class WordPressStack:
    """MariaDB plus two WordPress sites; ``start`` builds everything, ``stop`` removes it all."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rr-wordpress-"))
        self.docroot = self.root / "docroot"
        self.content = self.root / "wp-content"
        self.db_port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.sites: list[WordPressSite] = []

    # --- MariaDB -------------------------------------------------------------------------
    def _mysql(self, sql: str) -> None:
        subprocess.run(["mariadb", "--no-defaults", f"--socket={self.root / 'db.sock'}",
                        "-uroot", "-e", sql], check=True, capture_output=True, timeout=30)

    def _start_db(self) -> None:
        data = self.root / "db"
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user,
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        with (self.root / "db.log").open("wb") as log:
            self.processes.append(subprocess.Popen(
                ["mariadbd", "--no-defaults", f"--datadir={data}", f"--port={self.db_port}",
                 f"--socket={self.root / 'db.sock'}", "--bind-address=127.0.0.1", "--skip-log-bin",
                 "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
                 f"--pid-file={self.root / 'db.pid'}", "--innodb-flush-log-at-trx-commit=0", *user],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        _wait(lambda: (self.root / "db.sock").exists(), "MariaDB")
        self._mysql("CREATE USER 'wp'@'127.0.0.1' IDENTIFIED BY 'wp'; "
                    "GRANT ALL ON *.* TO 'wp'@'127.0.0.1'; "
                    "CREATE DATABASE wp_main; CREATE DATABASE wp_second;")

    # --- WordPress -----------------------------------------------------------------------
    def _docroot(self) -> None:
        self.docroot.mkdir()
        for entry in WORDPRESS.iterdir():
            if entry.suffix == ".php" and entry.name != "wp-config.php":
                shutil.copy(entry, self.docroot / entry.name)
        for name in ("wp-admin", "wp-includes"):
            (self.docroot / name).symlink_to(WORDPRESS / name)
        for script in PHP_DIR.glob("*.php"):
            if script.name != "yoast-primary-term.php":
                shutil.copy(script, self.docroot / script.name)
        (self.content / "uploads").mkdir(parents=True)
        (self.content / "mu-plugins").mkdir()
        shutil.copy(PHP_DIR / "yoast-primary-term.php", self.content / "mu-plugins")
        for name in ("themes", "plugins", "languages"):
            (self.content / name).symlink_to(WORDPRESS / "wp-content" / name)

    def env(self, site: WordPressSite) -> dict[str, str]:
        prefix = site.url.split("/", 3)[3] if site.url.count("/") > 2 else ""
        return {**os.environ, "RR_WP_DB": site.db, "RR_WP_DB_HOST": f"127.0.0.1:{self.db_port}",
                "RR_WP_CONTENT": str(self.content), "RR_WP_URL": site.url,
                "RR_WP_PREFIX": f"/{prefix}" if prefix else "",
                "HTTP_HOST": site.url.split("/")[2], "PHP_CLI_SERVER_WORKERS": "2"}

    def run_php(self, site: WordPressSite, script: str, *args: str) -> str:
        done = subprocess.run(["php", "-d", "display_errors=stderr", script, *args],
                              cwd=self.docroot, env=self.env(site), capture_output=True, text=True,
                              timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"php {script} failed: {done.stderr[-2000:] or done.stdout[-2000:]}")
        return done.stdout

    def _serve(self, site: WordPressSite) -> None:
        port = site.url.split("/")[2].rsplit(":", 1)[1]
        with (self.root / f"php-{port}.log").open("wb") as log:
            self.processes.append(subprocess.Popen(
                ["php", "-d", "opcache.enable_cli=1", "-S", f"127.0.0.1:{port}", "-t",
                 str(self.docroot), "router.php"],
                cwd=self.docroot, env=self.env(site), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))

        def answers() -> bool:
            try:
                with urllib.request.urlopen(site.url + "/", timeout=2) as resp:
                    return int(resp.status) == 200
            except OSError:
                return False
        _wait(answers, f"WordPress at {site.url}")

    def _site(self, url: str, db: str, title: str, permalinks: str, spec: dict[str, Any]
              ) -> WordPressSite:
        site = WordPressSite(url=url, db=db, stack=self)
        self.run_php(site, "install.php", title, permalinks)
        spec_file = self.root / f"{db}.json"
        spec_file.write_text(json.dumps(spec))
        made = json.loads(self.run_php(site, "content.php", str(spec_file)))
        site.posts, site.app_password = made["posts"], made["app_password"]
        self._serve(site)
        self.sites.append(site)
        return site

    def start(self) -> tuple[WordPressSite, WordPressSite]:
        """Both sites, installed, filled and served (raises Unavailable when impossible)."""
        ensure_installed()
        try:
            self._start_db()
            self._docroot()
            main = self._site(f"http://127.0.0.1:{free_port()}", "wp_main", "Main Street Gazette",
                              MAIN_PERMALINKS, main_site_spec())
            second = self._site(f"http://127.0.0.1:{free_port()}/blog", "wp_second",
                                "Second Site", "", second_site_spec())
        except BaseException:
            self.stop()
            raise
        return main, second

    def stop(self) -> None:
        """Stop every process this stack started (by id) and delete its directory."""
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)
