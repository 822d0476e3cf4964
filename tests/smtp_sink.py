"""A real SMTP server for the outbox tests (aiosmtpd).

Usage: python3 smtp_sink.py PORT OUT_FILE [USER PASSWORD]

Every message received is appended to OUT_FILE as one JSON line (message id, recipients,
subject, whether it has text and HTML parts). With USER and PASSWORD, clients must
authenticate (AUTH PLAIN/LOGIN, allowed without TLS for the test). Prints READY when listening.
"""

import email
import email.policy
import json
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        kinds = sorted({part.get_content_type() for part in msg.walk() if not part.is_multipart()})
        record = {
            "message_id": (msg.get("Message-ID") or "").strip("<> "),
            "to": envelope.rcpt_tos,
            "subject": str(msg.get("Subject") or ""),
            "parts": kinds,
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    return check


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    kwargs = {}
    if len(sys.argv) >= 5:
        kwargs = {"authenticator": authenticator(sys.argv[3], sys.argv[4]), "auth_require_tls": False, "auth_required": True}
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("READY", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
