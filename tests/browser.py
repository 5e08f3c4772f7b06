"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ended by NUL on file descriptors 3 and 4), for tests of pages pinbench writes.

``load_pages(paths)`` opens files in a fresh browser and returns, for each, what a person's
browser would have shown in its console and network panels: console messages, uncaught
exceptions, log entries (failed loads, blocked content) and every URL requested; with a
full-page screenshot.
No network is used: a page that asks for anything outside itself shows up in ``requests``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0  # seconds for the whole page; a guard against a hang, not a measurement


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, NAMES) if p), None)


@dataclass
class PageReport:
    console: list[str] = field(default_factory=list)  # "type: text" of each console call
    exceptions: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # "level: text" of the browser's log entries
    requests: list[str] = field(default_factory=list)  # every URL the page loaded
    screenshot: bytes = b""  # PNG


def _high(fd: int) -> int:
    """``fd`` moved to a descriptor number of at least 10 (never 3 or 4)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Pipe:
    """The browser's end of the protocol: commands out on one pipe, replies and events in."""

    def __init__(self, exe: str, profile: str) -> None:
        # Above 4, so that putting one on fd 3 or 4 in the child never overwrites the other.
        self._cmd_r, self._cmd_w = (_high(fd) for fd in os.pipe())
        self._resp_r, self._resp_w = (_high(fd) for fd in os.pipe())
        args = [exe, "--headless", "--disable-gpu", "--no-sandbox", "--remote-debugging-pipe",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
        # The browser expects the pipe on fds 3 and 4: a small Python puts it there and execs.
        trampoline = (
            "import os, sys\n"
            f"os.dup2({self._cmd_r}, 3); os.dup2({self._resp_w}, 4)\n"
            "os.execv(sys.argv[1], sys.argv[1:])\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", trampoline, *args],
            pass_fds=(self._cmd_r, self._resp_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(self._cmd_r)
        os.close(self._resp_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.deadline = time.monotonic() + TIMEOUT

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:  # fmt: skip
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the browser did not answer in time")
            ready, _, _ = select.select([self._resp_r], [], [], left)
            if ready:
                chunk = os.read(self._resp_r, 1 << 16)
                if not chunk:
                    raise RuntimeError("the browser closed the pipe")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._resp_r)


def load_pages(paths: list[Path], exe: str, width: int = 1280) -> list[PageReport]:
    """Opens each of ``paths`` in a tab of its own in one fresh headless browser; what each
    showed, and a full-page screenshot of each."""
    profile = tempfile.mkdtemp(prefix="pinbench-browser-")
    pipe = _Pipe(exe, profile)
    try:
        return [_load(pipe, path, width) for path in paths]
    finally:
        pipe.close()
        shutil.rmtree(profile, ignore_errors=True)


def _load(pipe: _Pipe, path: Path, width: int) -> PageReport:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Emulation.setDeviceMetricsOverride",
              {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
              session=session)  # fmt: skip
    pipe.events.clear()  # what about:blank did is not the page's
    pipe.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired")
    shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                     session=session)  # fmt: skip
    report = _report([e for e in pipe.events if e.get("sessionId") == session])
    report.screenshot = base64.b64decode(shot["data"])
    pipe.send("Target.closeTarget", {"targetId": target})
    return report


def _report(events: list[dict[str, Any]]) -> PageReport:
    out = PageReport()
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            out.console.append(f"{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            out.exceptions.append(str(details.get("exception", {}).get("description", details)))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            out.log.append(f"{entry['level']}: {entry['text']}")
        elif method == "Network.requestWillBeSent":
            out.requests.append(params["request"]["url"])
    return out
