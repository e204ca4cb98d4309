"""Atomic file writes: a reader never sees half a file, and unchanged files are left alone.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "feeds" / "atom.xml"
>>> write_if_changed(p, b"<feed/>"), write_if_changed(p, b"<feed/>")
(True, False)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from publisher.errors import OutputError

__all__ = [
    "PRIVATE",
    "PUBLIC",
    "private_dir",
    "template_folder",
    "write_atomic",
    "write_if_changed",
]

PUBLIC = 0o644
"""Feeds: anyone may read them."""
PRIVATE = 0o600
"""State (the outbox's mails hold live unsubscribe links): the owner only."""


def write_atomic(path: Path, data: bytes, mode: int = PUBLIC) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def template_folder(name: str = "") -> Path:
    """A folder (or file) of ``publisher.templates``: the project's ``templates/``, installed.

    >>> (template_folder("web") / "strings.toml").is_file()
    True
    """
    from importlib import resources

    return Path(str(resources.files("publisher.templates"))) / name


def private_dir(path: Path, what: str = "the state folder") -> Path:
    """``path`` as a folder only its owner can enter: made 0700, or narrowed to it if ours.

    One that cannot be made (a file in the way, no permission) is an
    :class:`~publisher.errors.OutputError` naming it as ``what``.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path, f"cannot make {what}: {exc.strerror or exc}") from exc
    with contextlib.suppress(OSError):
        st = path.stat()
        if st.st_mode & 0o077 and st.st_uid == os.geteuid():
            path.chmod(0o700)
    return path


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly these bytes.

    Returns whether the file was written, so callers can report it (and feed
    readers polling with If-Modified-Since see no change).
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True
