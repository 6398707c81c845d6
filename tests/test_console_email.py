"""Development email: one line per message on the console (EMAIL_CONSOLE_FULL=true: whole)."""

import io
from email import encoders
from email.mime.base import MIMEBase
from email.mime.text import MIMEText

from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection

from apps.support.common.tasks import send_email

SUMMARY_BACKEND = "apps.support.common.mail.SummaryEmailBackend"


def summarized(*messages: EmailMessage) -> str:
    stream = io.StringIO()
    sent = get_connection(SUMMARY_BACKEND, stream=stream).send_messages(list(messages))
    assert sent == len(messages)
    return stream.getvalue()


def test_an_email_is_one_line_with_its_recipients_and_subject():
    message = EmailMessage("Hola", "Bienvenida", to=["ana@example.org"])
    assert summarized(message) == 'Email to ana@example.org: "Hola"\n'


def test_attachments_are_named_with_their_sizes():
    message = EmailMultiAlternatives(
        "Your Parque Marino tickets — order 9T3S4U76",
        "Thank you for your purchase.",
        to=["visitor@parquemarino.test", "other@example.org"],
        cc=["cc@example.org"],
        bcc=["audit@example.org"],
    )
    message.attach_alternative("<p>Thank you</p>", "text/html")
    message.attach("parque-marino-9T3S4U76.pdf", b"%" * 12_595, "application/pdf")
    message.attach("session.ics", "BEGIN:VCALENDAR\r\n" * 10, "text/calendar")
    picture = MIMEBase("image", "png")
    picture.set_payload(b"\x89PNG" * 400_000)
    picture.add_header("Content-Disposition", "attachment", filename="map.png")
    encoders.encode_base64(picture)
    message.attach(picture)
    assert summarized(message) == (
        "Email to visitor@parquemarino.test, other@example.org, cc cc@example.org, "
        'bcc audit@example.org: "Your Parque Marino tickets — order 9T3S4U76" with '
        "parque-marino-9T3S4U76.pdf (12.3 KB), session.ics (170 B), map.png (1.5 MB)\n"
    )


def test_each_message_of_a_batch_has_its_line():
    first = EmailMessage("Uno", "1", to=["a@example.org"])
    second = EmailMessage("Dos", "2", to=["b@example.org"])
    second.attach(MIMEText("texto"))  # an attachment without a file name
    assert summarized(first, second) == (
        'Email to a@example.org: "Uno"\nEmail to b@example.org: "Dos" with (unnamed) (5 B)\n'
    )


def test_development_email_prints_the_summary_on_standard_output(settings, capsys):
    settings.EMAIL_BACKEND = SUMMARY_BACKEND
    assert send_email.delay(subject="Hola", body="Bienvenida", to=["a@example.org"]).get() == 1
    assert capsys.readouterr().out == 'Email to a@example.org: "Hola"\n'
    assert mail.outbox == []
