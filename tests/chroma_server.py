"""A real `chroma run` server on 127.0.0.1 and a free port, for the server-mode tests and benchmarks/load.py.

No pytest here: the benchmark imports it too (it puts tests/ on sys.path).
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

from llm_server import free_port  # noqa: F401  (re-exported for the server-mode tests)


def heartbeat(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class ChromaServer:
    """`chroma run --path path` writing to the open file `log`; started at once, stop() / start() again on the
    same port and data (a restart), and a context manager that stops it."""

    def __init__(self, exe: str, path, log) -> None:
        self.exe, self.path, self.log = exe, Path(path), log
        self.port = free_port()
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not heartbeat(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}; see {self.log.name}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not answer its heartbeat in 60 s; see {self.log.name}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def __enter__(self) -> "ChromaServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
