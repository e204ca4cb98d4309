"""Find the post files: a stat-only walk of the posts folder that no link can lead astray.

Like Jekyll, only files named ``YYYY-MM-DD-title.EXT`` are posts, and names
starting with ``.``, ``_``, ``#`` or ``~`` are skipped. What cannot be read
is listed with the reason instead of a stat, for the reader to report:

- the posts folder missing, not a folder, or a folder that cannot be listed;
- a symlink (to a file or a folder) whose target is outside the site: it is
  neither followed nor opened;
- a symlink to a folder already walked (a loop such as ``_posts/loop -> .``,
  or a second way into one folder): it is reported once and not followed;
- a broken symlink; a post name that is not a regular file; a name that is
  not UTF-8 (it could not be shown, stored or put in a feed).

An unchanged rebuild runs this on every build, so it costs little more than
one ``stat`` per post file and one per folder; links alone are resolved.
"""

from __future__ import annotations

import os
import re
import stat

__all__ = ["POST_NAME", "Found", "scan_posts"]

POST_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-.+\.(?:md|markdown|mkd|mkdn|mdown|html)\Z", re.I)
_IGNORED = (".", "_", "#", "~")
# os.scandir gives a name that is not UTF-8 with its bytes as lone surrogates.
_UNDECODABLE = re.compile("[\ud800-\udfff]")

Found = tuple[str, "os.stat_result | str"]
"""A path and its stat, or the path and why it is not read."""


def scan_posts(posts_dir: str, site_dir: str) -> list[Found]:
    """Every post file under ``posts_dir`` (recursively), in a stable order; see the module doc.

    Links may lead anywhere inside ``site_dir`` or ``posts_dir``. Folders
    reached through a link are walked after every other one, so that a link
    to a folder, not the folder, is what is reported as "already read". Paths
    are plain strings: this runs for every file on every build.
    """
    try:
        st = os.stat(posts_dir)
    except FileNotFoundError:
        return [(posts_dir, "no such folder (set [site] posts_dir)")]
    except OSError as exc:
        return [(posts_dir, f"cannot read the folder: {_why(exc)}")]
    if not stat.S_ISDIR(st.st_mode):
        return [(posts_dir, "not a folder (set [site] posts_dir)")]
    walk = _Walk(posts_dir, site_dir)
    while walk.folders or walk.linked:
        walk.folder(walk.folders.pop() if walk.folders else walk.linked.pop(0))
    return walk.found


class _Walk:
    """The state of one scan: where links may lead, and the folders walked and to walk."""

    def __init__(self, posts_dir: str, site_dir: str) -> None:
        self.site = site_dir
        self.roots = {os.path.realpath(site_dir), os.path.realpath(posts_dir)}
        self.seen: dict[tuple[int, int], str] = {}
        self.folders = [posts_dir]
        self.linked: list[str] = []
        self.found: list[Found] = []

    def folder(self, path: str) -> None:
        found = self.found
        try:
            st = os.stat(path)
            first = self.seen.setdefault((st.st_dev, st.st_ino), path)
            if first != path:
                found.append((path, self.again(path, first)))
                return
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            found.append((path, f"cannot read the folder: {_why(exc)}"))
            return
        for entry in entries:
            name = entry.name
            if name.startswith(_IGNORED):
                continue
            if entry.is_symlink() or not (name.isascii() or _decodable(name)):
                self.unusual(entry)  # kept out of the loop every file goes through
            elif entry.is_dir():
                self.folders.append(entry.path)
            elif POST_NAME.match(name) and entry.is_file():
                try:
                    found.append((entry.path, entry.stat()))
                except FileNotFoundError:  # deleted since the folder was listed
                    pass
                except OSError as exc:
                    found.append((entry.path, f"cannot read: {_why(exc)}"))
            elif POST_NAME.match(name):
                found.append((entry.path, "not a regular file: not read"))

    def again(self, path: str, first: str) -> str:
        if path.startswith(first + os.sep):
            return f"symlink loop: leads back to {self.show(first)}: not followed"
        return f"the same folder as {self.show(first)}: not read twice"

    def unusual(self, entry: os.DirEntry[str]) -> None:
        if not _decodable(entry.name):
            self.found.append((_printable(entry.path), "the file name is not UTF-8: not read"))
        else:
            reason = self.link(entry.path, POST_NAME.match(entry.name) is not None)
            if reason is not None:
                self.found.append((entry.path, reason))

    def link(self, path: str, post: bool) -> os.stat_result | str | None:
        """What a symlink gives: a post's stat, why it is not read, or None (ignored or queued)."""
        try:
            st = os.stat(path)
        except OSError as exc:
            return f"broken symlink ({_target(path)}): {_why(exc)}"
        is_dir = stat.S_ISDIR(st.st_mode)
        if not (is_dir or post):
            return None
        real = os.path.realpath(path)
        if not any(_within(real, root) for root in self.roots):
            return f"symlink points outside the site ({_printable(real)}): not read"
        if is_dir and _within(os.path.realpath(os.path.dirname(path)), real):
            # An ancestor (even the site folder): found now, not after walking all of it.
            return f"symlink loop: leads back to {self.show(real)}: not followed"
        if is_dir:
            self.linked.append(path)
            return None
        return st if stat.S_ISREG(st.st_mode) else "not a regular file: not read"

    def show(self, path: str) -> str:
        """``path`` relative to the site folder, as problems name files."""
        if path == self.site:
            return "the site folder"
        prefix = self.site + os.sep
        return path[len(prefix) :] if path.startswith(prefix) else path


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def _decodable(name: str) -> bool:
    return _UNDECODABLE.search(name) is None


def _target(path: str) -> str:
    try:
        return _printable(os.readlink(path))
    except OSError:
        return "?"


def _printable(path: str) -> str:
    """``path`` with the bytes of a name that is not UTF-8 shown as ``\\xNN``."""
    if path.isascii() or not _UNDECODABLE.search(path):
        return path
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
