"""The development mail sink (``mentorship dev up``): a real SMTP server whose mails are read as JSON over HTTP, kept in
its store directory across restarts."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from mentorship.devstack.mailsink import start_mail_sink

pytestmark = pytest.mark.integration


def _mail(to: str, subject: str, text: str, number: int = 1) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Mentoring Office <mentoring@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{number}@notifications.example.org>"
    message.set_content(text)
    message.add_alternative(f"<p>{text}</p>", subtype="html")
    return message


def test_the_sink_keeps_what_it_receives_and_serves_it_as_json(tmp_path: Path) -> None:
    store = tmp_path / "mail"
    with start_mail_sink(store, fixed_ports=False, log_dir=tmp_path) as sink:
        with smtplib.SMTP(sink.smtp_host, sink.smtp_port) as smtp:
            smtp.send_message(_mail("Ada Mentor <ada@example.edu>", "Introduction: Théo", "Meet Théo.", 1))
            smtp.send_message(_mail("theo@example.edu", "Your request was forwarded", "Ada has a week.", 2))
        newest, oldest = sink.mails()
        assert (newest["id"], oldest["id"]) == (2, 1)
        assert oldest["subject"] == "Introduction: Théo" and oldest["to"] == "Ada Mentor <ada@example.edu>"
        assert oldest["envelope_to"] == ["ada@example.edu"] and oldest["text"] == "Meet Théo.\n"
        assert oldest["html"] == "<p>Meet Théo.</p>\n" and oldest["message_id"] == "<1@notifications.example.org>"
        assert [m["id"] for m in sink.mails(to="ADA@example")] == [1]
        assert [m["id"] for m in sink.mails(subject="forwarded")] == [2]
        assert httpx.get(f"{sink.url}/mails/2").json()["to"] == "theo@example.edu"
        missing = httpx.get(f"{sink.url}/mails/7")
        assert missing.status_code == 404 and missing.json() == {"detail": "no mail 7"}
        wrong = httpx.get(f"{sink.url}/mails", params={"limit": "0"})
        assert wrong.status_code == 422 and "limit" in wrong.json()["detail"]
    with start_mail_sink(store, fixed_ports=False, log_dir=tmp_path) as again:  # a kept store: the mails are there
        assert [m["subject"] for m in again.mails()] == ["Your request was forwarded", "Introduction: Théo"]
        with smtplib.SMTP(again.smtp_host, again.smtp_port) as smtp:
            smtp.send_message(_mail("ada@example.edu", "Reminder", "Soon."))
        assert again.mails(limit=1)[0]["id"] == 3


def test_the_store_reads_a_mail_as_the_email_packages_default_policy_does(tmp_path: Path) -> None:
    """The sink parses with the quick compat32 parser: headers unfolded and decoded, bodies decoded, as before."""
    from email import message_from_bytes, policy

    from mentorship.devstack.mailsink import MailStore

    long_id = "<" + "a304329f-35d3-55cc-ba2e-2733326252b9" * 2 + "@notifications.mentorship.local>"
    mails = [
        _mail("Zoë Ångström <zoe@example.edu>", "Réunion — “notes” " + "long " * 30, "Bonjour Zoë — à bientôt."),
        _mail('"Hopper, Maya" <maya@example.edu>', "Plain", "Dear Maya,\n\nline two\n"),
    ]
    mails[1].replace_header("Message-ID", long_id)  # folded when sent
    plain = EmailMessage()
    plain["To"], plain["Subject"] = "ada@example.edu", "Text only"
    plain.set_content("No HTML here.")
    store = MailStore(tmp_path)
    for message in [*mails, plain]:
        raw = message.as_bytes().replace(b"\n", b"\r\n")
        kept = store.add("mentoring@example.org", ["x@example.edu"], raw)
        expected = message_from_bytes(raw, policy=policy.default)
        for field, header in (("from", "From"), ("to", "To"), ("subject", "Subject"), ("message_id", "Message-ID")):
            assert kept[field] == str(expected.get(header, "")), field
        for field, kind in (("text", "plain"), ("html", "html")):
            body = expected.get_body(preferencelist=(kind,))
            assert kept[field] == (None if body is None else body.get_content().replace("\r\n", "\n")), field
    assert store.mails[-1]["html"] is None and store.mails[1]["message_id"] == long_id
