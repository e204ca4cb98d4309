"""config/publisher.example.toml documents every key with its real default."""

import tomllib
from pathlib import Path

import msgspec

from publisher.config import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "publisher.example.toml"


def test_example_config_is_valid_and_shows_the_defaults() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    settings = msgspec.convert(data, Settings)
    defaults = Settings()
    for section in ("feeds", "paths", "database", "smtp", "digest", "web", "run", "content"):
        assert getattr(settings, section) == getattr(defaults, section), section
    site = msgspec.structs.asdict(settings.site)
    assert site == {**msgspec.structs.asdict(defaults.site)}


def test_example_config_mentions_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in (
        "site",
        "feeds",
        "paths",
        "database",
        "smtp",
        "digest",
        "web",
        "run",
        "content",
    ):
        assert f"[{section}]" in text
        for field in msgspec.structs.fields(getattr(Settings(), section)):
            key = field.encode_name
            assert f"\n{key} = " in text or f"\n# {key} = " in text, f"{section}.{key}"
