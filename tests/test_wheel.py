"""The package as users install it: a wheel, outside the checkout, finds its templates.

The templates live at the project's top level (``templates/``) and are mapped
into the package as ``publisher.templates``. This builds the wheel, installs
it (without dependencies: they are this environment's) into a folder of its
own, and from a folder far from the checkout renders a digest, the confirm
mail and a page, and writes a feed with its stylesheet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from pathlib import Path

    import publisher
    from publisher.app import BuildRequest, build_feeds
    from publisher.config import load_settings
    from publisher.digest.render import render_confirmation, render_digest
    from publisher.content import read_posts
    from publisher.web.templates import PageTemplates
    from publisher.web.pages import TEMPLATES

    assert publisher.__file__.startswith(sys.argv[1]), publisher.__file__
    site = Path(sys.argv[2])
    settings = load_settings(site, environ={})
    now = datetime(2025, 11, 20, tzinfo=timezone.utc)
    posts = read_posts(site, settings, now).posts
    digest = render_digest(posts, number=1, cutoff=now, settings=settings)
    assert "Hello from a wheel" in digest.html and "Hello from a wheel" in digest.text
    assert render_confirmation(confirm_url="https://x.org/c/1", settings=settings).html
    assert "<form" in PageTemplates(TEMPLATES).render(
        "subscribe.html.j2", lang="en", t=PageTemplates(TEMPLATES).words("en"),
        title="t", site={"title": "t", "url": "/"}, subscribe_url="/subscribe", email="",
        name="", chosen=(), categories=[], stamp="s", error="", reason="",
    )
    report = build_feeds(BuildRequest(site_dir=site, output_dir=site / "out", now=now))
    assert (site / "out" / "feeds" / "feed.xsl").read_bytes().startswith(b"<?xml")
    print("ok", report.published)
    """
)


def test_an_installed_wheel_renders_from_its_own_templates(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run([*pip, "--version"], capture_output=True, check=False).returncode:
        pytest.skip("no pip in this environment")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("publisher-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "publisher/templates/feed.xsl" in names
    assert "publisher/templates/digest/edition.html.j2" in names
    assert "publisher/templates/web/strings.toml" in names
    target = tmp_path / "installed"
    subprocess.run(
        [*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text('title: W\nurl: "https://w.example.com"\n', "utf-8")
    (site / "_posts" / "2025-11-19-hello.md").write_text(
        '---\ntitle: "Hello from a wheel"\n---\n\nA post.\n', "utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PYTHONPATH"] = str(target)  # before site-packages, where the checkout is installed
    env["PUBLISHER_PATHS__VAR"] = str(tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target), str(site)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "1"]


def test_every_package_of_the_source_is_in_the_wheel_s_list() -> None:
    """pyproject.toml lists the packages by name (for the templates' mapping): none forgotten."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "publisher").rglob("__init__.py")
    }
    assert found | {"publisher.templates"} == listed
