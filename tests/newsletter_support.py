"""A copy of the example site wired to a test database and SMTP server, driven through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import copy_example_site

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789abcdef"
SCRIPT = Path(sys.executable).with_name("publisher")


class Newsletter:
    """A copy of the example site wired to a test database and SMTP server."""

    def __init__(self, root: Path, db_url: str, smtp: tuple[str, int] | None) -> None:
        self.root = root
        self.site = root / "site"
        copy_example_site(self.site)
        smtp_block = (
            f'[smtp]\nhost = "{smtp[0]}"\nport = {smtp[1]}\nsecurity = "none"\n' if smtp else ""
        )
        # The example's own [feeds] and [categories]; the rest is this test's.
        example = (self.site / "publisher.toml").read_text(encoding="utf-8").split("[digest]")[0]
        (self.site / "publisher.toml").write_text(
            example
            + f'\n[database]\nurl = "{db_url}"\n{smtp_block}'
            + '[digest]\nfrom = "つみきノート <news@blog.example.com>"\nbatch_size = 50\nfirst_edition_days = 60\n'
            + 'postal_address = "1-2-3 Example, Tokyo"\n[web]\nbase_url = "https://news.example.com"\n',
            encoding="utf-8",
        )

    def run(
        self, *args: str, now: str = "2025-11-20T09:00:00+09:00", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        env["PUBLISHER_SECRET"] = SECRET
        result = subprocess.run(
            [*command, *args, "--site", "site", *(("--now", now) if now else ())],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result
