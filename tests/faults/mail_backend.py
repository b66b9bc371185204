"""An email backend for a worker in another process: one file per message in $FAULT_MAIL_DIR, written after
a pause of $FAULT_MAIL_DELAY seconds, so a test can count what was sent and kill the worker mid-send."""

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        folder = Path(os.environ["FAULT_MAIL_DIR"])
        for message in messages:
            time.sleep(float(os.environ.get("FAULT_MAIL_DELAY", "0")))
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(messages)
