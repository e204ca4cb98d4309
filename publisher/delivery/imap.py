"""The mailbox returned mail arrives in, over IMAP (RFC 9051/3501): list, fetch, move.

Bounces go to a digest's envelope sender; the operator routes that address
to a mailbox publisher can read (``[bounces]``). :class:`ImapMailbox` reads
one folder: the UIDs of what is in it (not flagged for deletion), each
message's bytes (one over :data:`~publisher.delivery.returns.MAX_RETURN_BYTES`
is not fetched), and moves a message it has dealt with to another folder
(made if missing), so the folder holds only what is new and nothing is ever
deleted. TLS is verified against the system's CA certificates or only
``ca_file``; ``none`` is for a server on the same machine.

Every fault (refused connection, TLS, login, a folder that cannot be
selected, a dropped connection) is a :class:`~publisher.errors.MailboxError`
that says what to fix; no mail is changed by a fault.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from typing import Literal, Protocol

from publisher.delivery.returns import MAX_RETURN_BYTES
from publisher.errors import MailboxError

__all__ = ["ImapMailbox", "Mailbox"]

Security = Literal["tls", "starttls", "none"]
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class Mailbox(Protocol):
    """What reading returned mail needs of a mailbox (tests may give their own)."""

    def uids(self, limit: int) -> list[str]:
        """Up to ``limit`` message UIDs of the folder, oldest first."""
        ...

    def fetch(self, uid: str) -> bytes | None:
        """The message's bytes; None if it is too large to be a report."""
        ...

    def move(self, uid: str, folder: str) -> None:
        """Move the message to ``folder`` (made if missing)."""
        ...

    def close(self) -> None:
        """Log out."""
        ...


class ImapMailbox:
    """One folder of an IMAP account (see the module docstring)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str,
        password: str,
        folder: str = "INBOX",
        security: Security = "tls",
        timeout: float = 30.0,
        ca_file: str = "",
    ) -> None:
        self.host, self.port, self.folder = host, port, folder
        self.username, self.password = username, password
        self.security, self.timeout, self.ca_file = security, timeout, ca_file
        self._imap: imaplib.IMAP4 | None = None
        self._made: set[str] = set()
        self._capabilities: set[str] = set()

    def open(self) -> None:
        """Connect, log in and select the folder."""
        where = f"{self.host}:{self.port}"
        try:
            if self.security == "tls":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self._context(), timeout=self.timeout
                )
            else:
                imap = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    imap.starttls(ssl_context=self._context())
        except ssl.SSLError as exc:
            raise MailboxError(
                f"TLS with {where} failed: {exc.reason or exc}",
                fix="check [bounces] security and port; a private CA goes in [bounces] ca_file",
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(
                f"cannot connect to {where}: {exc}", fix="check [bounces] host and port"
            ) from exc
        self._imap = imap
        try:
            imap.login(self.username, self.password)
        except imaplib.IMAP4.error as exc:
            self.close()
            raise MailboxError(
                f"{where} refused the login of {self.username!r}: {_said(exc)}",
                fix="check [bounces] username and PUBLISHER_IMAP_PASSWORD",
            ) from exc
        # The capabilities after login (imaplib keeps those of the greeting): MOVE, UIDPLUS.
        status, said = self._call(imap.capability)
        words = b" ".join(x for x in said if isinstance(x, bytes)).upper().split()
        self._capabilities = {w.decode("ascii", "replace") for w in words} | set(imap.capabilities)
        status, said = self._call(imap.select, _quoted(self.folder))
        if status != "OK":
            self.close()
            raise MailboxError(
                f"cannot open the folder {self.folder!r}: {_text(said)}",
                fix="check [bounces] folder",
            )

    def uids(self, limit: int) -> list[str]:
        """Up to ``limit`` UIDs, oldest first."""
        # UNDELETED: a message flagged for deletion (by us on a server without MOVE or
        # UIDPLUS, or by a person) is not read again.
        status, said = self._call(self._open_imap().uid, "SEARCH", "UNDELETED")
        if status != "OK" or not said or not isinstance(said[0], bytes):
            return []
        return [uid.decode() for uid in said[0].split()[:limit]]

    def fetch(self, uid: str) -> bytes | None:
        """The message's bytes, or None when it is over the size a report may have."""
        imap = self._open_imap()
        status, said = self._call(imap.uid, "FETCH", uid, "(RFC822.SIZE)")
        size = _SIZE.search(b" ".join(x for x in said if isinstance(x, bytes))) if said else None
        if status != "OK" or size is None or int(size[1]) > MAX_RETURN_BYTES:
            return None
        status, said = self._call(imap.uid, "FETCH", uid, "(BODY.PEEK[])")
        for item in said or ():
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    def move(self, uid: str, folder: str) -> None:
        """Move the message (MOVE; else COPY, flag it \\Deleted, and UID EXPUNGE it alone)."""
        imap = self._open_imap()
        if folder not in self._made:
            self._call(imap.create, _quoted(folder))  # "already exists" is fine
            self._made.add(folder)
        if "MOVE" in self._capabilities:
            status, said = self._call(imap.uid, "MOVE", uid, _quoted(folder))
        else:
            status, said = self._call(imap.uid, "COPY", uid, _quoted(folder))
            if status == "OK":
                self._call(imap.uid, "STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
                if "UIDPLUS" in self._capabilities:  # only ours, never what a person flagged
                    self._call(imap.uid, "EXPUNGE", uid)
                # Without UIDPLUS the copy stays flagged \Deleted for the owner to expunge:
                # a bare EXPUNGE would also remove what a person flagged and kept.
        if status != "OK":
            raise MailboxError(
                f"cannot move message {uid} to {folder!r}: {_text(said)}",
                fix="check [bounces] done_folder and ignored_folder",
            )

    def close(self) -> None:
        """Log out (quietly: the connection may be gone already)."""
        imap, self._imap = self._imap, None
        if imap is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.logout()

    def _open_imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            self.open()
        assert self._imap is not None
        return self._imap

    def _call(self, method: object, *args: str) -> tuple[str, list[object]]:
        """One IMAP command; a dropped connection or a protocol error is a MailboxError."""
        try:
            status, said = method(*args)  # type: ignore[operator]
        except (OSError, imaplib.IMAP4.abort) as exc:
            self.close()
            raise MailboxError(
                f"the connection to {self.host}:{self.port} was lost: {exc}",
                fix="it is tried again at the next poll",
            ) from exc
        except imaplib.IMAP4.error as exc:
            return "NO", [str(exc).encode()]
        return str(status), list(said or [])

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise MailboxError(
                f"cannot load [bounces] ca_file {self.ca_file!r}: {exc}",
                fix="[bounces] ca_file must name a readable PEM file of CA certificates",
            ) from exc


def _quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(exc: BaseException) -> str:
    return _text(list(exc.args))


def _text(said: list[object]) -> str:
    parts = [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in said]
    return " ".join(" ".join(parts).split())[:200]
