"""SmtpTransport over TLS against aiosmtpd on 127.0.0.1: STARTTLS, implicit TLS, AUTH, trust.

Each module run makes its own self-signed certificate for the IP address
127.0.0.1 and trusts it through ``ca_file``, the way a relay with a private CA
is configured. Failures of TLS or AUTH are the relay's or the sender's:
RelayError, never a recipient's error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_server import (
    Accounts,
    Certificate,
    RecordingHandler,
    running_smtp,
    self_signed_certificate,
)

from publisher.app.sending import make_transport
from publisher.config import SmtpSettings
from publisher.delivery import SmtpTransport
from publisher.errors import DeliveryError, RelayError

SENDER = "news@example.com"
MESSAGE = b"From: news@example.com\r\nSubject: weekly\r\n\r\nhello\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def relay_error(transport: SmtpTransport) -> RelayError:
    """What sending one message raised; it must be a RelayError."""
    try:
        transport.send(SENDER, "ann@example.org", MESSAGE)
    except DeliveryError as exc:
        assert isinstance(exc, RelayError), repr(exc)
        return exc
    finally:
        transport.close()
    raise AssertionError("the message was sent")


def test_starttls_and_auth_with_the_right_password_delivers(certificate: Certificate) -> None:
    handler = RecordingHandler(pipelining=True)
    accounts = Accounts({"editor": "right horse"})
    with running_smtp(handler, tls=certificate.server_context(), accounts=accounts) as (h, p):
        transport = SmtpTransport(
            h, p, username="editor", password="right horse", ca_file=str(certificate.cert)
        )
        for n in range(3):
            assert transport.send(SENDER, f"r{n}@example.org", MESSAGE).startswith("250")
        transport.close()
    # The server refuses MAIL before STARTTLS and AUTH: these went over TLS, logged in.
    assert [m.recipients for m in handler.messages] == [[f"r{n}@example.org"] for n in range(3)]
    assert accounts.attempts == 1  # one connection, one login


def test_the_wrong_password_is_a_relay_error_with_the_servers_reply(
    certificate: Certificate,
) -> None:
    handler = RecordingHandler()
    accounts = Accounts({"editor": "right horse"})
    with running_smtp(handler, tls=certificate.server_context(), accounts=accounts) as (h, p):
        error = relay_error(
            SmtpTransport(h, p, username="editor", password="wrong", ca_file=str(certificate.cert))
        )
    assert error.smtp_code == 535
    assert error.reply == "5.7.8 Authentication credentials invalid"
    assert "PUBLISHER_SMTP_PASSWORD" in getattr(error, "fix", "")
    assert handler.mails == 0 and handler.messages == []


def test_implicit_tls_and_auth_delivers(certificate: Certificate) -> None:
    handler = RecordingHandler()
    accounts = Accounts({"editor": "right horse"})
    tls = certificate.server_context()
    with running_smtp(handler, tls=tls, implicit_tls=True, accounts=accounts) as (h, p):
        transport = SmtpTransport(
            h,
            p,
            security="tls",
            username="editor",
            password="right horse",
            ca_file=str(certificate.cert),
        )
        assert transport.send(SENDER, "ann@example.org", MESSAGE).startswith("250")
        transport.close()
    assert [m.recipients for m in handler.messages] == [["ann@example.org"]]
    assert accounts.attempts == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_untrusted_certificate_is_a_relay_error_naming_the_certificate(
    certificate: Certificate, security: str
) -> None:
    handler = RecordingHandler()
    tls = certificate.server_context()
    with running_smtp(handler, tls=tls, implicit_tls=security == "tls") as (h, p):
        error = relay_error(SmtpTransport(h, p, security=security))  # no ca_file: system CAs
    assert "certificate" in str(error) and "self-signed" in str(error)
    assert "[smtp] ca_file" in getattr(error, "fix", "")
    assert handler.mails == 0


def test_a_certificate_for_another_name_is_refused_even_with_ca_file(
    certificate: Certificate,
) -> None:
    # Issued for 127.0.0.1, reached as "localhost": trusted CA, wrong name.
    handler = RecordingHandler()
    with running_smtp(handler, tls=certificate.server_context()) as (_h, port):
        error = relay_error(SmtpTransport("localhost", port, ca_file=str(certificate.cert)))
    assert "certificate" in str(error) and "localhost" in str(error)
    assert handler.mails == 0


def test_starttls_not_offered_never_falls_back_to_plain_text() -> None:
    handler = RecordingHandler()
    with running_smtp(handler) as (h, p):  # a relay without STARTTLS
        error = relay_error(SmtpTransport(h, p, security="starttls", username="editor"))
    assert str(error) == f"{h}:{p} does not offer STARTTLS"
    assert handler.mails == 0  # nothing went out in plain text


def test_auth_not_offered_while_a_username_is_set_is_a_relay_error(
    certificate: Certificate,
) -> None:
    # aiosmtpd offers AUTH only after STARTTLS, like most relays; security = "none" skips it.
    accounts = Accounts({"editor": "right horse"})
    handler = RecordingHandler()
    with running_smtp(handler, tls=certificate.server_context(), accounts=accounts) as (h, p):
        error = relay_error(
            SmtpTransport(h, p, security="none", username="editor", password="right horse")
        )
    assert str(error) == f"{h}:{p} does not offer AUTH on this connection"
    assert accounts.attempts == 0 and handler.mails == 0


def test_implicit_tls_against_a_starttls_port_is_a_relay_error(certificate: Certificate) -> None:
    handler = RecordingHandler()
    with running_smtp(handler, tls=certificate.server_context()) as (h, p):
        error = relay_error(SmtpTransport(h, p, security="tls", ca_file=str(certificate.cert)))
    assert str(error).startswith(f"TLS with {h}:{p} failed")
    assert handler.mails == 0


def test_a_ca_file_that_cannot_be_read_is_a_relay_error(tmp_path: Path) -> None:
    handler = RecordingHandler()
    missing = tmp_path / "missing.pem"
    with running_smtp(handler) as (h, p):
        error = relay_error(SmtpTransport(h, p, ca_file=str(missing)))
    assert str(error).startswith(f"cannot load [smtp] ca_file '{missing}'")
    assert handler.sessions == 0  # found out before connecting


def test_make_transport_trusts_the_configured_ca_file(certificate: Certificate) -> None:
    handler = RecordingHandler()
    accounts = Accounts({"editor": "right horse"})
    with running_smtp(handler, tls=certificate.server_context(), accounts=accounts) as (h, p):
        smtp = SmtpSettings(host=h, port=p, username="editor", ca_file=str(certificate.cert))
        transport = make_transport(smtp, "right horse", Path("unused"))
        assert transport.send(SENDER, "ann@example.org", MESSAGE).startswith("250")
        transport.close()
    assert [m.recipients for m in handler.messages] == [["ann@example.org"]]
