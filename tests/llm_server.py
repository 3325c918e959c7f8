"""A scripted OpenAI-compatible chat-completions server for the tests (stdlib only).

    with ScriptedLLM() as server:
        server.push(reply="「…」[1]")            # next request: this reply (JSON, or SSE when stream=true)
        server.push(reply=lambda body: "…")      # the reply computed from the request's JSON
        server.push(status=500)                  # an HTTP error with an OpenAI-style error body
        server.push(sleep=5, reply="late")       # answers after 5 s (longer than the client's timeout)
        server.push(close=True)                  # closes the connection without a response
        server.push(reply="…", cut_after=3)      # streams 3 chunks, then drops the connection
        server.requests                          # every request: {"path", "headers", "body"}

Requests beyond the queue get `default` (a not-found reply).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_tokens(text: str, size: int = 3) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):  # noqa: N802
        self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        script = self.server.script
        script.record({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, {"error": {"message": f"unknown path {self.path}", "type": "invalid_request_error"}})
            return
        behaviour = script.next_behaviour()
        if behaviour.get("sleep"):
            time.sleep(behaviour["sleep"])
        if behaviour.get("close"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status = behaviour.get("status", 200)
        if status != 200:
            self._json(status, {"error": {"message": behaviour.get("message", "internal error"),
                                          "type": "server_error", "code": None}})
            return
        reply = behaviour.get("reply", "")
        if callable(reply):
            reply = reply(body)
        model = body.get("model", "test-model")
        try:
            if body.get("stream"):
                self._stream(model, behaviour.get("tokens") or split_tokens(reply), behaviour.get("cut_after"))
            else:
                self._json(200, {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply},
                                 "finish_reason": "stop", "logprobs": None}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                })
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _stream(self, model: str, tokens: list[str], cut_after: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(delta: dict, finish: str | None = None) -> None:
            chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                                  "logprobs": None}]}
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode("utf-8"))
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for i, token in enumerate(tokens):
            if cut_after is not None and i >= cut_after:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            event({"content": token})
            time.sleep(0.002)
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    script: "ScriptedLLM"


class ScriptedLLM:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[dict] = deque()
        self.requests: list[dict] = []
        self.default = {"reply": "文档中没有找到答案。"}
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.script = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-llm", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ScriptedLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -------------------------------------------------------------------------------- scripting

    def push(self, **behaviour) -> None:
        with self._lock:
            self._queue.append(behaviour)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()

    def next_behaviour(self) -> dict:
        with self._lock:
            return self._queue.popleft() if self._queue else dict(self.default)

    def record(self, request: dict) -> None:
        with self._lock:
            self.requests.append(request)

    @property
    def last(self) -> dict:
        return self.requests[-1]


def llm_assistant(root, docs: dict[str, str], cache_dir):
    """An Assistant in LLM mode (model "openai:test-model", 2 s timeout) over `docs` written into root."""
    from assistant.bot import Assistant
    from assistant.config import Settings

    for name, text in docs.items():
        (root / name).write_text(text, "utf-8")
    assistant = Assistant(Settings(home=root / "home", cache_dir=cache_dir, auto_ingest=False,
                                   llm="openai:test-model", llm_timeout=2))
    report = assistant.ingest(sorted(root.glob("*.txt")))
    assert [r.status for r in report.results] == ["added"] * len(docs), report
    return assistant
