"""A real SMTP server for the tests (aiosmtpd): it accepts and keeps every message, parsed."""

from __future__ import annotations


class MailCatcher:
    """A real SMTP server (aiosmtpd) on a free port that keeps every message it accepted, parsed."""

    def __init__(self, delay: float = 0.0) -> None:
        import socket

        from aiosmtpd.controller import Controller

        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):   # noqa: N802 - aiosmtpd's hook name
                import asyncio
                import email
                from email import policy

                if catcher.delay:
                    await asyncio.sleep(catcher.delay)
                catcher.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.delay, self.messages = delay, []
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]
