"""A real Dovecot IMAP server on 127.0.0.1 for the bounce tests, in a folder of the test's.

Dovecot is Debian's (``./dev test`` installs ``dovecot-imapd``); without it the
tests that need one skip. Each server has its own configuration, state, log
and Maildir under the given folder, one account (``ACCOUNT``/``PASSWORD``),
plain IMAP on one port and, with a certificate, implicit TLS on another. As
root, the mail is stored as ``nobody`` (Dovecot refuses root as a mail user).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from smtp_server import Certificate, free_port

ACCOUNT = "bounces@blog.example.com"
PASSWORD = "mailbox horse battery"


@dataclass(frozen=True)
class Imap:
    """A running server: where it listens, and a client for the test's own looks."""

    port: int
    tls_port: int
    root: Path
    """Its configuration, log and Maildir (removed when it stops)."""

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(ACCOUNT, PASSWORD)
        return imap

    def append(self, data: bytes, folder: str = "INBOX") -> None:
        imap = self.client()
        try:
            status, said = imap.append(f'"{folder}"', None, None, data)
            assert status == "OK", said
        finally:
            imap.logout()

    def count(self, folder: str) -> int:
        """Messages in ``folder`` (0 when it does not exist)."""
        imap = self.client()
        try:
            status, said = imap.select(f'"{folder}"', readonly=True)
            return int(said[0] or 0) if status == "OK" and said and said[0] else 0
        finally:
            imap.logout()

    def messages(self, folder: str) -> list[bytes]:
        imap = self.client()
        try:
            imap.select(f'"{folder}"', readonly=True)
            _, found = imap.uid("SEARCH", "ALL")
            uids = found[0].split() if found and found[0] else []
            texts = []
            for uid in uids:
                _, got = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                texts += [part[1] for part in got if isinstance(part, tuple)]
            return texts
        finally:
            imap.logout()


def find_dovecot() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else ""
    )
    if not found:
        pytest.skip("no dovecot (./dev test installs Debian's dovecot-imapd)")
    return found


@contextmanager
def running_imap(certificate: Certificate | None = None, extra: str = "") -> Iterator[Imap]:
    """Start Dovecot with its files in a folder of its own; stop it and remove them after.

    The folder is under the system's temporary folder, not pytest's: Dovecot's
    own users (``dovecot``, ``dovenull``, the mail user) must reach it, and
    pytest makes its folders for their owner alone.
    """
    dovecot = find_dovecot()
    folder = Path(tempfile.mkdtemp(prefix="publisher-imap-"))
    folder.chmod(0o755)
    if certificate is not None:  # readable by Dovecot's processes, whatever they run as
        for name, source in (("cert.pem", certificate.cert), ("key.pem", certificate.key)):
            shutil.copyfile(source, folder / name)
        certificate = Certificate(folder / "cert.pem", folder / "key.pem")
    mail, run = folder / "mail", folder / "run"
    for made in (mail, run, folder / "state"):
        made.mkdir(exist_ok=True)
    user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    entry = pwd.getpwnam(user)
    if os.geteuid() == 0:
        os.chown(mail, entry.pw_uid, entry.pw_gid)
    (folder / "passwd").write_text(f"{ACCOUNT}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    port, tls_port = free_port(), free_port()
    tls = (
        f"ssl = yes\nssl_cert = <{certificate.cert}\nssl_key = <{certificate.key}\n"
        if certificate
        else "ssl = no\n"
    )
    (folder / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {folder / "state"}
instance_name = publisher-test-{port}
log_path = {folder / "dovecot.log"}
{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
first_valid_uid = {entry.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder / "passwd"}
}}
userdb {{
  driver = static
  args = uid={entry.pw_uid} gid={entry.pw_gid} home={mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port if certificate else 0}
  }}
}}
service anvil {{
  chroot =
}}
{extra}""",
        encoding="utf-8",
    )
    config = str(folder / "dovecot.conf")
    with (folder / "start.log").open("wb") as log:  # the daemon keeps no pipe of ours open
        subprocess.run(
            [dovecot, "-c", config], check=True, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = Imap(port, tls_port, folder)
    try:
        for _ in range(100):  # until it answers a login
            try:
                server.client().logout()
                break
            except OSError:
                time.sleep(0.05)
        yield server
    finally:
        subprocess.run(
            [dovecot, "-c", config, "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        for _ in range(100):
            if not (run / "master.pid").exists():
                break
            time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)
