"""Development email: one line per message on the console instead of the whole MIME text.

``EMAIL_BACKEND`` is this backend when no ``EMAIL_URL`` is set, unless
``EMAIL_CONSOLE_FULL=true`` asks for Django's console backend (every header, body and
base64 attachment).
"""

from email.mime.base import MIMEBase

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


def size_text(size: int) -> str:
    """``812 B``, ``12.3 KB``, ``1.5 MB`` (1 KB = 1024 bytes)."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _attachment(attachment: MIMEBase | tuple) -> tuple[str, int]:
    """An attachment's file name and size in bytes."""
    if isinstance(attachment, MIMEBase):
        payload = attachment.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        return attachment.get_filename() or "(unnamed)", size
    filename, content, _mimetype = attachment
    data = content.encode() if isinstance(content, str) else bytes(content)
    return filename or "(unnamed)", len(data)


def summary(message: EmailMessage) -> str:
    """``Email to a@example.org, cc b@example.org: "Subject" with x.pdf (12.3 KB)``."""
    recipients = ", ".join(message.to) or "(nobody)"
    if message.cc:
        recipients += ", cc " + ", ".join(message.cc)
    if message.bcc:
        recipients += ", bcc " + ", ".join(message.bcc)
    line = f'Email to {recipients}: "{message.subject}"'
    attachments = [_attachment(attachment) for attachment in message.attachments]
    if attachments:
        line += " with " + ", ".join(f"{name} ({size_text(size)})" for name, size in attachments)
    return line


class SummaryEmailBackend(ConsoleEmailBackend):
    """Writes ``summary(message)`` for each message to the console (thread-safe, as Django's)."""

    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(summary(message) + "\n")
