"""An e-mail backend for tests that takes its time, so two workers surely overlap."""

import time
from collections.abc import Sequence

from django.core.mail.backends.console import EmailBackend
from django.core.mail.message import EmailMessage


class SlowConsoleBackend(EmailBackend):
    """The console backend, 20 ms per message."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        time.sleep(0.02 * len(email_messages))
        return super().send_messages(email_messages)
