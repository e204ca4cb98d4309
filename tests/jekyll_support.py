"""The real Jekyll, for the tests that compare publisher with it.

Jekyll is Debian's (``./dev test`` installs ``jekyll ruby-jekyll-feed``), or
the program named by ``PUBLISHER_TEST_JEKYLL``; without one the tests skip.
Jekyll runs in a network namespace of its own when ``unshare`` allows it, so
a build that tried to fetch anything would fail.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from state_support import clean_env

JEKYLL_ENV = "PUBLISHER_TEST_JEKYLL"


def find_jekyll() -> str:
    """The ``jekyll`` program, or skip the test."""
    found = os.environ.get(JEKYLL_ENV) or shutil.which("jekyll")
    if not found:
        pytest.skip(f"no jekyll (./dev test installs Debian's; or set {JEKYLL_ENV})")
    return found


@functools.cache
def offline() -> tuple[str, ...]:
    """A prefix that runs a command without any network, if this machine allows one."""
    unshare = shutil.which("unshare")
    for prefix in ([unshare, "--net"], [unshare, "--map-root-user", "--net"]) if unshare else ():
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False, timeout=30)
        if probe.returncode == 0:
            return tuple(prefix)
    return ()


def jekyll_build(
    site: Path, *, need_feed: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """``jekyll build`` in ``site`` (source ``.``, destination ``_site``), offline if possible.

    ``env`` is added to the environment (``TZ``, for a site without ``timezone``).
    Without jekyll-feed the site is built without the plugin, or with ``need_feed`` the
    test skips.
    """
    environment = clean_env(JEKYLL_NO_BUNDLER_REQUIRE="true", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    environment.update(env)
    result = subprocess.run(
        [*offline(), find_jekyll(), "build"],
        cwd=site,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 and "jekyll-feed" in result.stdout + result.stderr:
        if need_feed:
            pytest.skip("jekyll-feed is not installed (Debian: ruby-jekyll-feed)")
        # A Jekyll without the plugin the example lists (Debian: ruby-jekyll-feed): build
        # without it rather than fail on something that is not publisher's.
        config = site / "_config.yml"
        text = config.read_text(encoding="utf-8").replace("plugins: [jekyll-feed]\n", "")
        config.write_text(text, encoding="utf-8")
        return jekyll_build(site, **env)
    return result


def jekyll_ruby(script: str, stdin: str) -> str:
    """Run ``script`` in Ruby with Jekyll loaded (``-rjekyll -rjson``); its standard output."""
    find_jekyll()
    ruby = shutil.which("ruby")
    if not ruby:
        pytest.skip("no ruby to load Jekyll's code with")
    result = subprocess.run(
        [*offline(), ruby, "-rjekyll", "-rjson", "-e", script],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(LANG="C.UTF-8", LC_ALL="C.UTF-8"),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
