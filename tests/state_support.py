"""The real ``publisher`` command run from a chosen folder, and what a folder holds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("publisher")
NOW = "2025-11-20T09:00:00+09:00"
CSV = (
    "email,name,categories,status\n"
    "state-ann@example.net,Ann Lee,,\n"
    "state-taro@example.net,佐藤 太郎,投資分析,\n"
)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``PUBLISHER_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(extra)
    return env


def publisher(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``publisher ARGS`` through the installed script, in ``cwd``; never raises on failure."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        timeout=300,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str], *allowed: int) -> str:
    """``result``'s standard output, after checking its exit status (0 unless ``allowed``)."""
    assert result.returncode in (allowed or (0,)), (
        f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (dot-files too) with its size and mtime, to compare later."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            found[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return found
