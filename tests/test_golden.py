"""The example site's feeds, byte for byte (refresh with ``pytest --update-golden``)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import feedparser
from conftest import copy_example_site

from publisher.app import BuildRequest, build_feeds

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "example-site"
NOW = datetime.fromisoformat("2025-11-20T09:00:00+09:00")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_example_site_feeds_match_golden_files(
    tmp_path: Path, monkeypatch, update_golden: bool
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    copy_example_site(site)
    report = build_feeds(BuildRequest(site_dir=site, output_dir=tmp_path / "out", now=NOW))
    assert report.exit_code == 1 and len(report.problems) == 1
    built = _files(tmp_path / "out")
    for name, data in built.items():
        if name.endswith(".xml"):
            assert not feedparser.parse(data).bozo, name
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = _files(GOLDEN)
    assert sorted(built) == sorted(golden)
    for name in golden:
        assert built[name] == golden[name], (
            f"{name} differs from tests/golden: run pytest --update-golden and review"
        )
