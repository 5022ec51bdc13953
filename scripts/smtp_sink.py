"""The SMTP sink of Sésame's tests, an aiosmtpd handler (started by scripts/smtp-sink.sh).

Each message accepted is stored in a folder twice: the raw `.eml` as received, and a
`.json` with the envelope, the headers and the text and HTML parts decoded by
Python's own MIME parser (an independent check that the message is well formed).
The `.json` is written last, so a test that sees it can read both.

Some recipients make the sink answer like a real server that is busy or refuses:
`throttled@…` gets 451 (try again later), `rejected@…` gets 550 (no such user).
"""

import email
import email.policy
import itertools
import json
import os
import time


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count()
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the folder to store messages in")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "throttled":
            return "451 4.7.1 Too many messages, try again later"
        if local == "rejected":
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        message = email.message_from_bytes(raw, policy=email.policy.default)

        def part(kind):
            body = message.get_body(preferencelist=(kind,))
            return None if body is None else body.get_content()

        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "message_id": str(message["message-id"]),
            "content_type": message.get_content_type(),
            "text": part("plain"),
            "html": part("html"),
        }
        name = os.path.join(self.directory, f"{time.time_ns()}-{next(self.counter)}")
        self._write(name + ".eml", raw)
        self._write(name + ".json", json.dumps(record, ensure_ascii=False).encode("utf-8"))
        return "250 Message accepted for delivery"

    @staticmethod
    def _write(path, data):
        partial = path + ".part"
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, path)
