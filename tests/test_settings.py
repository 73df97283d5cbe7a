from __future__ import annotations

from pathlib import Path

import pytest

from recommender.ranking.policy import RankingPolicy
from recommender.settings import Settings, SettingsError


def test_defaults_work_out_of_the_box() -> None:
    s = Settings.from_env({})
    assert s.database_url == "sqlite:///var/related.db"
    assert s.model == "bundled"
    assert s.related_k == 12
    assert s.ranking == RankingPolicy()
    assert s.index_dir == Path("var/index")


def test_environment_values_are_typed() -> None:
    s = Settings.from_env({
        "RELATED_DATA_DIR": "/tmp/rr",
        "RELATED_RELATED_K": "20",
        "RELATED_API_KEYS": "a, b,,c",
        "RELATED_WIDGET_ORIGINS": "https://a.example,https://b.example",
        "RELATED_RANKING_SEMANTIC_WEIGHT": "0.7",
        "RELATED_RANKING_SAME_LANGUAGE": "false",
        "RELATED_RANKING_HALF_LIFE_DAYS": "news=10,evergreen=0",
        "RELATED_TRUSTED_PROXIES": "2",
        "UNRELATED": "ignored",
    })
    assert s.database_url == "sqlite:////tmp/rr/related.db"
    assert s.related_k == 20
    assert s.api_keys == ("a", "b", "c")
    assert s.widget_origins == ("https://a.example", "https://b.example")
    assert s.trusted_proxies == 2
    assert s.ranking.semantic_weight == 0.7
    assert s.ranking.same_language is False
    assert s.ranking.half_life_for("news") == 10
    assert s.ranking.half_life_for("analysis") == RankingPolicy().half_life_for("analysis")


def test_settings_are_frozen() -> None:
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.related_k = 3  # type: ignore[misc]


@pytest.mark.parametrize(("env", "message"), [
    ({"RELATED_RELATED_K": "many"}, "RELATED_RELATED_K: expected a positive integer"),
    ({"RELATED_RELATED_K": "0"}, "RELATED_RELATED_K"),
    ({"RELATED_CACHE_MAX_AGE": "-1"}, "RELATED_CACHE_MAX_AGE"),
    ({"RELATED_TRUSTED_PROXIES": "-1"}, "RELATED_TRUSTED_PROXIES: expected a non-negative"),
    ({"RELATED_DATABASE_URL": "not a url"}, "RELATED_DATABASE_URL"),
    ({"RELATED_WIDGET_ORIGINS": "example.com"}, "RELATED_WIDGET_ORIGINS"),
    ({"RELATED_RANKING_SEMANTIC_WEIGHT": "heavy"}, "RELATED_RANKING_SEMANTIC_WEIGHT"),
    ({"RELATED_RANKING_MMR_LAMBDA": "3"}, "mmr_lambda"),
    ({"RELATED_RANKING_NOPE": "1"}, "RELATED_RANKING_NOPE: unknown"),
    ({"RELATED_TYPO": "1"}, "RELATED_TYPO: unknown setting"),
    ({"RELATED_CONFIG": "/nonexistent/related.toml"}, "RELATED_CONFIG: file not found"),
    # --- #16 readers' feedback
    ({"RELATED_EXPOSURE_CAP": "1.5"}, "RELATED_EXPOSURE_CAP: expected a share"),
    ({"RELATED_EXPOSURE_CAP": "1%"}, "RELATED_EXPOSURE_CAP"),
    ({"RELATED_EVENTS_RETENTION_DAYS": "0"}, "RELATED_EVENTS_RETENTION_DAYS"),
    ({"RELATED_EVENTS_RATE_LIMIT": "-5"}, "RELATED_EVENTS_RATE_LIMIT"),
])
def test_malformed_values_fail_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_toml_file_with_env_override(tmp_path: Path) -> None:
    config = tmp_path / "related.toml"
    config.write_text('related_k = 8\nmodel = "/models/x"\n[ranking]\ntag_weight = 0.2\n')
    s = Settings.from_env({"RELATED_CONFIG": str(config), "RELATED_RELATED_K": "9"})
    assert s.related_k == 9
    assert s.model == "/models/x"
    assert s.ranking.tag_weight == 0.2


def test_malformed_toml(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("related_k = = 3")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.from_env({"RELATED_CONFIG": str(config)})


def test_operations_settings_of_issue_17() -> None:
    """The demo site is off unless enabled; /metrics is open unless a token or networks are set,
    and a malformed network names the variable."""
    default = Settings.from_env({})
    assert (default.demo_site, default.metrics_token, default.metrics_networks) == (False, "", ())
    env = {"RELATED_DEMO_SITE": "yes", "RELATED_METRICS_TOKEN": "s3cret",
           "RELATED_METRICS_NETWORKS": "10.0.0.0/8, 127.0.0.1 ,::1"}
    settings = Settings.from_env(env)
    assert settings.demo_site is True and settings.metrics_token == "s3cret"
    assert settings.metrics_networks == ("10.0.0.0/8", "127.0.0.1/32", "::1/128")
    for var, value in (("RELATED_DEMO_SITE", "maybe"), ("RELATED_METRICS_NETWORKS", "10.0.0.1/8"),
                       ("RELATED_METRICS_NETWORKS", "intranet")):
        with pytest.raises(SettingsError, match=var):
            Settings.from_env({var: value})


# --- #14 encoder backend
def test_the_encoder_backend_is_one_of_two(tmp_path: Path) -> None:
    assert Settings().encoder_backend == "auto"
    assert Settings.from_env({"RELATED_ENCODER_BACKEND": " ONNX-int8 "}).encoder_backend == "onnx-int8"
    assert Settings.from_env({"RELATED_ENCODER_BACKEND": "torch"}).encoder_backend == "torch"
    config = tmp_path / "related.toml"
    config.write_text('encoder_backend = "onnx-int8"\n')
    assert Settings.from_env({"RELATED_CONFIG": str(config)}).encoder_backend == "onnx-int8"
    for bad in ("onnx", "int8", "", "cuda"):
        with pytest.raises(SettingsError, match=r"RELATED_ENCODER_BACKEND: expected auto or "
                                                r"torch or onnx-int8, got"):
            Settings.from_env({"RELATED_ENCODER_BACKEND": bad})
    with pytest.raises(SettingsError, match="RELATED_ENCODER_BACKEND"):
        Settings(encoder_backend="tensorflow")  # made in code, checked all the same


# --- #15 Ray engine
def test_the_ray_address_is_empty_unless_set() -> None:
    assert Settings.from_env({}).ray_address == ""  # reindex --engine ray: a local Ray
    assert Settings.from_env({"RELATED_RAY_ADDRESS": " head:6379 "}).ray_address == "head:6379"
