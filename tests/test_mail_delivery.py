"""Mail goes where the environment says: files under var/mail/ by default, or a real SMTP
server named by EMAIL_HOST and EMAIL_PORT (here a local aiosmtpd server on loopback)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from tests.test_settings import run_python


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd calls it by name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_email_host_and_port_deliver_through_a_real_smtp_server(tmp_path, smtp_server):
    inbox, port = smtp_server
    result = run_python(
        tmp_path, "manage.py", "sendtestemail", "alice@example.test",
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), DEFAULT_FROM_EMAIL="clinic@rebound.test",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["alice@example.test"]
    assert message["From"] == "clinic@rebound.test"
    assert not list((tmp_path / "mail").glob("*"))


def test_without_email_host_mail_is_written_under_var_mail(tmp_path):
    result = run_python(tmp_path, "manage.py", "sendtestemail", "alice@example.test")
    assert result.returncode == 0, result.stderr
    written = list((tmp_path / "mail").glob("*.log"))
    assert len(written) == 1
    assert "To: alice@example.test" in written[0].read_text()
