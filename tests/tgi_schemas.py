"""TGI's published request and response schemas, from the npm package @huggingface/tasks (pinned in
package-lock.json, installed by `npm ci` at set-up): the text-generation and chat-completion `spec/*.json`
files that huggingface_hub's types are generated from, themselves generated from TGI's OpenAPI document.

They are OpenAPI-flavoured JSON Schema: `nullable: true` means null is allowed too, which plain JSON
Schema does not know, so it is turned into an explicit `anyOf` with null. Routes without a published
schema (/v1/completions, /info, /v1/models, /tokenize, error bodies) are checked against the shapes in
TGI's router source instead (docs/reference/tgi-router.md), in `shape_errors`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from conftest import missing
from workload.paths import REPO_ROOT

TASKS = REPO_ROOT / "node_modules" / "@huggingface" / "tasks" / "src" / "tasks"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k not in ("nullable", "example", "default")}
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def validator(task: str, name: str) -> jsonschema.protocols.Validator:
    """e.g. validator("text-generation", "stream_output")."""
    path = TASKS / task / "spec" / f"{name}.json"
    if not path.exists():
        missing(f"{path} (npm ci installs @huggingface/tasks)")
    schema = _nullable(json.loads(path.read_text(encoding="utf-8")))
    schema.pop("$id", None)
    return jsonschema.Draft7Validator(schema)


def schema_errors(task: str, name: str, document: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator(task, name).iter_errors(document)]  # fmt: skip


ERROR_BODY = {"error": str, "error_type": str}
# Shapes from TGI v3.3.7 router/src/lib.rs (CompletionFinal 555, CompletionComplete 567, Chunk 575,
# Info 261, ModelsInfo 1534, SimpleToken 1398) and server.rs (OpenAI stream errors: infer/mod.rs 445).
COMPLETION = {"id": str, "object": str, "created": int, "model": str, "system_fingerprint": str, "choices": list}
COMPLETION_CHOICE = {"index": int, "text": str, "logprobs": type(None), "finish_reason": str}
INFO = {
    "model_id": str, "max_concurrent_requests": int, "max_best_of": int, "max_stop_sequences": int,
    "max_input_tokens": int, "max_total_tokens": int, "validation_workers": int, "max_client_batch_size": int,
    "router": str, "version": str,
}  # fmt: skip
SIMPLE_TOKEN = {"id": int, "text": str, "start": int, "stop": int}


def shape_errors(document: Any, shape: Mapping[str, type[Any]]) -> list[str]:
    if not isinstance(document, dict):
        return [f"expected an object, got {type(document).__name__}"]
    return [
        f"{key}: expected {kind.__name__}" for key, kind in shape.items() if not isinstance(document.get(key), kind)
    ]


def sse_events(body: bytes) -> list[str]:
    """The data payloads of a server-sent-event body (comments skipped)."""
    events, data = [], []
    for raw in body.decode("utf-8").split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            events.append("\n".join(data))
            data = []
    return events


def response_errors(  # noqa: PLR0917 - one exchange's six parts, in the order they happen
    method: str, path: str, request: bytes, status: int, content_type: str, body: bytes
) -> list[str]:
    """Every way a response differs from TGI's published schemas or its router's shapes."""
    if status == 401:
        return [] if body == b"" else ["401 must have an empty body (router/src/server.rs line 2229)"]
    if content_type.startswith("text/event-stream"):
        return _stream_errors(path, request, body)
    if status >= 400:
        if content_type.startswith("text/plain") or not body:
            return []  # axum's own rejections (400/415/422 plain text, 404/405 empty)
        return shape_errors(json.loads(body), ERROR_BODY)
    if path == "/metrics":
        return prometheus_errors(body.decode("utf-8"))
    if not content_type.startswith("application/json"):
        return [] if not body else [f"{path}: {content_type or 'no content type'} with a body"]
    document = json.loads(body)
    route = _route(path, request)
    if route == "generate":
        items = document if path in ("/", "/invocations") else [document]
        if path in ("/", "/invocations") and not isinstance(document, list):
            return ["POST / answers a list (compat_generate, server.rs line 153)"]
        return [e for item in items for e in schema_errors("text-generation", "output", item)]
    if route == "chat":
        return schema_errors("chat-completion", "output", document)
    if route == "completions":
        errors = shape_errors(document, COMPLETION)
        return errors + [e for c in document.get("choices", []) for e in shape_errors(c, COMPLETION_CHOICE)]
    if path == "/info":
        return shape_errors(document, INFO)
    if path == "/v1/models":
        data = document.get("data") or [{}]
        return shape_errors(document, {"object": str, "data": list}) + shape_errors(
            data[0], {"id": str, "object": str, "created": int, "owned_by": str}
        )
    if path == "/tokenize":
        return [e for token in document for e in shape_errors(token, SIMPLE_TOKEN)]
    return []


SAMPLE = re.compile(r'^[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (?P<value>\S+)$')


def _is_number(text: str) -> bool:
    try:
        float(text)  # also +Inf and NaN, as Prometheus writes them
    except ValueError:
        return False
    return True


def prometheus_errors(text: str) -> list[str]:
    """The Prometheus text format: a `# TYPE` before each family, samples `name{labels} value`."""
    typed: dict[str, str] = {}
    errors = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            typed[name] = kind
        elif line and not line.startswith("#"):
            name = re.split(r"[{ ]", line, maxsplit=1)[0]
            family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
            sample = SAMPLE.match(line)
            if not sample or not _is_number(sample["value"]):
                errors.append(f"not a Prometheus sample: {line!r}")
            elif family not in typed:
                errors.append(f"{name} has no # TYPE line")
    return errors


def _route(path: str, request: bytes) -> str:
    if path in ("/generate", "/generate_stream"):
        return "generate"
    if path == "/v1/chat/completions":
        return "chat"
    if path == "/v1/completions":
        return "completions"
    if path in ("/", "/invocations"):
        body = json.loads(request or b"{}")
        return "chat" if "messages" in body else "completions" if "prompt" in body else "generate"
    return path


def _stream_errors(path: str, request: bytes, body: bytes) -> list[str]:
    # axum 0.7.9 src/response/sse.rs: `data: ` + JSON + blank line (line 231), keep-alive `:` (line 420).
    if not re.fullmatch(rb"((:\n\n)|(data: [^\n]*\n\n))+", body):
        return [f"not TGI's SSE framing (`data: {{json}}` and a blank line): {body[:120]!r}"]
    events = sse_events(body)
    route = _route(path, request)
    errors: list[str] = []
    if route == "generate":
        if "[DONE]" in events:
            errors.append("/generate_stream sends no [DONE] (server.rs generate_stream)")
        for event in events:
            if event == "[DONE]":
                continue
            document = json.loads(event)
            if "error" in document:
                errors += shape_errors(document, ERROR_BODY)
            else:
                errors += schema_errors("text-generation", "stream_output", document)
        return errors
    if events[-1:] != ["[DONE]"]:
        errors.append("OpenAI streams end with data:[DONE] (server.rs chat_completions/completions)")
    for event in events[:-1]:
        document = json.loads(event)
        if "error" in document:
            errors += shape_errors(document["error"], {"message": str, "http_status_code": int})
        elif route == "chat":
            errors += schema_errors("chat-completion", "stream_output", document)
        else:
            errors += shape_errors(document, COMPLETION)
    return errors
