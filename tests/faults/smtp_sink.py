"""A tiny SMTP sink for the fault scenarios: it accepts EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP and QUIT, answers 250 to every message and records it.

It can be stopped (the listening socket is closed and every open session is
cut, so new connections are refused) and started again on the same port.
Standard library only (asyncio in a background thread).

Standalone, for a manual look:  python3 smtp_sink.py [PORT]
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    """One message the sink answered 250 to."""

    at: float
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    to: str = ""
    subject: str = ""
    message_id: str = ""
    body: str = ""

    def parse(self) -> "Received":
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        self.to = str(msg.get("To", ""))
        self.subject = str(msg.get("Subject", ""))
        self.message_id = str(msg.get("Message-ID", ""))
        texts = []
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                try:
                    texts.append(part.get_content())
                except Exception:  # pragma: no cover - a broken part is still recorded
                    texts.append(part.get_payload())
        self.body = "\n".join(texts)
        return self


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    sessions: int = 0
    refused_while_down: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smtp-sink", daemon=True)
        self._thread.start()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- control (from any thread) -------------------------------------------------
    def _call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> int:
        """Listens (on the same port as before when restarted); returns the port."""
        self.port = self._call(self._start())
        return self.port

    def stop(self) -> None:
        """Closes the port and cuts every open session."""
        self._call(self._stop())

    def close(self) -> None:
        try:
            if self.running:
                self.stop()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    # -- the loop ------------------------------------------------------------------
    async def _start(self) -> int:
        if self._server is not None:
            return self.port
        last = None
        for _ in range(50):  # a just-closed port may take a moment to bind again
            try:
                self._server = await asyncio.start_server(
                    self._session, self.host, self.port, reuse_address=True
                )
                break
            except OSError as e:
                last = e
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"SMTP sink cannot listen on {self.host}:{self.port}: {last}")
        return self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for w in list(self._writers):
            w.transport.abort()
        await server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._writers.add(writer)
        with self._lock:
            self.sessions += 1

        async def reply(text: str):
            writer.write(text.encode() + b"\r\n")
            await writer.drain()

        mail_from, rcpts = "", []
        try:
            await reply("220 faults-sink ESMTP ready")
            while True:
                line = await reader.readline()
                if not line:
                    return
                command = line.decode("latin-1").rstrip("\r\n")
                verb = command.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    await reply("250-faults-sink\r\n250-8BITMIME\r\n250 SIZE 33554432")
                elif verb == "HELO":
                    await reply("250 faults-sink")
                elif verb == "MAIL":
                    mail_from, rcpts = command[10:].strip(), []
                    await reply("250 OK")
                elif verb == "RCPT":
                    rcpts.append(command[8:].strip().strip("<>").split(">")[0])
                    await reply("250 OK")
                elif verb == "DATA":
                    if not rcpts:
                        await reply("503 need RCPT first")
                        continue
                    await reply("354 end data with <CR><LF>.<CR><LF>")
                    chunks = []
                    while True:
                        data_line = await reader.readline()
                        if not data_line:
                            return  # cut mid-message: not received
                        if data_line in (b".\r\n", b".\n"):
                            break
                        if data_line.startswith(b".."):
                            data_line = data_line[1:]
                        chunks.append(data_line)
                    got = Received(time.time(), mail_from, list(rcpts), b"".join(chunks)).parse()
                    with self._lock:
                        self.messages.append(got)
                        n = len(self.messages)
                    await reply(f"250 OK queued as {n}")
                    mail_from, rcpts = "", []
                elif verb == "RSET":
                    mail_from, rcpts = "", []
                    await reply("250 OK")
                elif verb == "NOOP":
                    await reply("250 OK")
                elif verb == "VRFY":
                    await reply("252 cannot verify")
                elif verb == "QUIT":
                    await reply("221 bye")
                    return
                else:
                    await reply("502 command not implemented")
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            try:
                writer.close()
            except Exception:
                pass


if __name__ == "__main__":
    import sys

    sink = SmtpSink(port=int(sys.argv[1]) if len(sys.argv) > 1 else 2525)
    print(f"SMTP sink on 127.0.0.1:{sink.start()}; Ctrl-C to stop", flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            for m in sink.snapshot()[seen:]:
                print(f"{time.strftime('%H:%M:%S')} to={m.to!r} subject={m.subject!r} id={m.message_id}")
                seen += 1
    except KeyboardInterrupt:
        sink.close()
