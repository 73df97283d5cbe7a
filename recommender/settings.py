"""Typed, frozen settings read once from ``RELATED_*`` environment variables (and a TOML file).

A bad value must stop the process at start-up naming the variable, never surface later as a
confusing error deep in a request, so every field is parsed and checked here.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recommender.ranking.policy import RankingPolicy

PREFIX = "RELATED_"
BUNDLED_MODEL = "bundled"
# --- #14 encoder backend: how the model runs (recommender.embedding.backends builds each)
ENCODER_BACKENDS = ("auto", "torch", "onnx-int8")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one deployment."""

    data_dir: Path = Path("var")
    database_url: str = ""
    model: str = BUNDLED_MODEL
    related_k: int = 12
    api_keys: tuple[str, ...] = ()
    widget_origins: tuple[str, ...] = ()
    widget_heading: str = "Related reading"
    exact_index_max: int = 50_000
    builds_kept: int = 3
    cache_max_age: int = 300
    stale_while_revalidate: int = 3600
    secret_key: str = ""
    # reverse proxies in front of the app that append X-Forwarded-For/-Proto; 0 = the headers are
    # ignored, so a client cannot pick the address the sign-in limit counts failures against
    trusted_proxies: int = 0
    sources: tuple[str, ...] = ()
    ranking: RankingPolicy = field(default_factory=RankingPolicy)
    # --- #17 operations: the demo magazine and /metrics
    # the demo magazine ("/", "/demo/articles/<id>") serves the full text of every live article:
    # only the demo turns it on, never a production site by default
    demo_site: bool = False
    # /metrics: a bearer token and/or the client networks (CIDR) allowed; both empty = open
    metrics_token: str = ""
    metrics_networks: tuple[str, ...] = ()
    # --- #13 WordPress credentials: USER:APPLICATION_PASSWORD for every wordpress source, or a
    # file of "SITE_URL USER:PASSWORD" lines; secrets, so never in repr, logs or errors
    wordpress_auth: str = field(default="", repr=False)
    wordpress_auth_file: str = ""
    # --- #16 readers' feedback
    events_retention_days: int = 90  # raw events kept this long; daily rollups forever
    events_rate_limit: int = 600  # events a minute from one client (in memory, per worker); 0 = off
    exposure_cap: float = 0.0  # the share of all list slots one article may take; 0 = no cap
    # --- #14 encoder backend: the same model in torch, or exported to ONNX and quantised to int8
    encoder_backend: str = "auto"  # onnx-int8 where it can run (the `fast` extra), else torch
    # --- #15 Ray engine
    ray_address: str = ""  # the Ray cluster of `reindex --engine ray`; empty = a local Ray
    # --- #14 large builds
    # past this many articles a build uses an inverted file (IVF) instead of HNSW: an HNSW graph
    # of a million articles takes 15+ minutes to build on 2 cores (docs/performance.md)
    hnsw_index_max: int = 200_000

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{(self.data_dir / 'related.db').as_posix()}"
            object.__setattr__(self, "database_url", url)
        if self.encoder_backend not in ENCODER_BACKENDS:  # --- #14: also when built in code
            raise SettingsError(f"{PREFIX}ENCODER_BACKEND: expected "
                                f"{' or '.join(ENCODER_BACKENDS)}, got {self.encoder_backend!r}")

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (default ``os.environ``), then the TOML file it names."""
        env = dict(os.environ if environ is None else environ)
        raw: dict[str, Any] = {}
        config_file = env.get(PREFIX + "CONFIG")
        if config_file:
            raw.update(_read_toml(config_file))
        for key, value in env.items():
            if key.startswith(PREFIX) and key != PREFIX + "CONFIG":
                name = key[len(PREFIX):].lower()
                if name.startswith("ranking_"):
                    raw.setdefault("ranking", {})
                    raw["ranking"] = {**raw["ranking"], name[len("ranking_"):]: value}
                else:
                    raw[name] = value
        return cls(**_parse(raw))


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{PREFIX}CONFIG: file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{PREFIX}CONFIG: {path} is not valid TOML: {exc}") from None


def _positive_int(value: Any) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError
    return number


def _non_negative_int(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError
    return number


def _share(value: Any) -> float:
    number = float(value)
    if not 0.0 <= number < 1.0:
        raise ValueError
    return number


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError


def _networks(value: Any) -> tuple[str, ...]:
    """CIDR networks, normalised (``10.1.2.3/8`` is refused: host bits set is a typo)."""
    return tuple(str(ipaddress.ip_network(part)) for part in _str_list(value))


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ValueError
    return text


_FIELDS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "data_dir": (lambda v: Path(str(v)).expanduser(), "a directory path"),
    "database_url": (str, "an SQLAlchemy database URL"),
    "model": (str, "'bundled' or a local sentence-transformers model directory"),
    "related_k": (_positive_int, "a positive integer"),
    "api_keys": (_str_list, "a comma-separated list of keys"),
    "widget_origins": (_str_list, "a comma-separated list of origins like https://example.com"),
    "widget_heading": (str, "a string"),
    "exact_index_max": (_non_negative_int, "a non-negative integer"),
    "builds_kept": (_positive_int, "a positive integer"),
    "cache_max_age": (_non_negative_int, "a non-negative integer (seconds)"),
    "stale_while_revalidate": (_non_negative_int, "a non-negative integer (seconds)"),
    "secret_key": (str, "a string"),
    "trusted_proxies": (_non_negative_int, "a non-negative integer (proxies in front of the app)"),
    "sources": (_str_list, "a comma-separated list of kind:URL specs (rss, atom, wordpress, sitemap)"),
    # --- #17 operations
    "demo_site": (_bool, "true or false"),
    "metrics_token": (str, "a string (the bearer token Prometheus sends)"),
    "metrics_networks": (_networks, "a comma-separated list of networks like 10.0.0.0/8 or ::1"),
    # --- #13 WordPress credentials
    "wordpress_auth": (str, "USER:APPLICATION_PASSWORD"),
    "wordpress_auth_file": (str, "a file of SITE_URL USER:PASSWORD lines"),
    # --- #16 readers' feedback
    "events_retention_days": (_positive_int, "a positive integer (days)"),
    "events_rate_limit": (_non_negative_int, "a non-negative integer (events a minute, 0 = off)"),
    "exposure_cap": (_share, "a share from 0 (off) to below 1, e.g. 0.01"),
    # --- #14 encoder backend
    "encoder_backend": (lambda v: _choice(v, ENCODER_BACKENDS), " or ".join(ENCODER_BACKENDS)),
    # --- #15 Ray engine
    "ray_address": (lambda v: str(v).strip(), "a Ray address such as head:6379 or ray://head:10001"),
    # --- #14 large builds
    "hnsw_index_max": (_non_negative_int, "a non-negative integer"),
}


def _parse(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in raw.items():
        var = PREFIX + name.upper()
        if name == "ranking":
            out["ranking"] = _parse_ranking(value)
            continue
        if name not in _FIELDS:
            raise SettingsError(f"{var}: unknown setting")
        cast, expected = _FIELDS[name]
        try:
            out[name] = cast(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{var}: expected {expected}, got {value!r}") from None
    if "database_url" in out and "://" not in out["database_url"]:
        raise SettingsError(
            f"{PREFIX}DATABASE_URL: expected an SQLAlchemy URL such as "
            f"sqlite:///var/related.db, got {out['database_url']!r}"
        )
    for origin in out.get("widget_origins", ()):
        if not origin.startswith(("http://", "https://")) and origin != "*":
            raise SettingsError(
                f"{PREFIX}WIDGET_ORIGINS: expected origins like https://example.com, got {origin!r}"
            )
    return out


def _parse_ranking(value: Any) -> RankingPolicy:
    if not isinstance(value, dict):
        raise SettingsError(f"{PREFIX}RANKING: expected a table of ranking weights")
    defaults = RankingPolicy().to_dict()
    parsed: dict[str, Any] = {}
    for key, item in value.items():
        var = f"{PREFIX}RANKING_{key.upper()}"
        if key not in defaults:
            raise SettingsError(f"{var}: unknown ranking setting")
        default = defaults[key]
        try:
            if isinstance(default, bool):
                parsed[key] = _bool(item)
            elif isinstance(default, int):
                parsed[key] = int(item)
            elif isinstance(default, float):
                parsed[key] = float(item)
            elif isinstance(default, dict):
                parsed[key] = _parse_half_lives(item)
        except (TypeError, ValueError):
            expected = type(default).__name__ if not isinstance(default, dict) else "type=days,…"
            raise SettingsError(f"{var}: expected {expected}, got {item!r}") from None
    try:
        return RankingPolicy.from_dict(parsed)
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}RANKING: {exc}") from None


def _parse_half_lives(value: Any) -> dict[str, float]:
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    pairs = [p.split("=", 1) for p in str(value).split(",") if p.strip()]
    if any(len(p) != 2 for p in pairs):
        raise ValueError
    return {k.strip(): float(v) for k, v in pairs}
