"""What `workload verify` asks an OpenAI-compatible engine (vLLM, SGLang): the helm-test script's request
checks (openai_check.py, standard library only because the test pod runs it), called in-process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workload.checks import Check
from workload.engines import openai_check as check


def _ours(found: check.Check) -> Check:
    return Check(found.name, found.ok, found.detail, found.hint)


class OpenAiVerifier:
    request_checks: tuple[str, ...] = ("health", "models", "completion", "chat_stream")

    def __init__(self, title: str, model_flag: str) -> None:
        self.title, self.model_flag = title, model_flag

    def model_id(self, container: Mapping[str, Any]) -> str:
        """The served model name the chart passes with --served-model-name (else the model flag's value)."""
        args = [str(a) for a in container.get("args", [])]
        for flag in ("--served-model-name", self.model_flag):
            if flag in args[:-1]:
                return args[args.index(flag) + 1]
        return args[0] if args and not args[0].startswith("-") else ""

    def run_request_checks(self, url: str, api_key: str, model_id: str) -> list[Check]:
        return [_ours(c) for c in check.request_checks(check.OpenAiClient(url, api_key), model_id, self.title)]

    def gateway_checks(self, url: str, api_key: str, host: str) -> list[Check]:
        """The cheap checks through the gateway: the model list and one streamed chat (the route exposes no
        health path for these engines: only what the API key guards)."""
        client = check.OpenAiClient(url, api_key, host)
        found = (check.check_models(client, "", self.title), check.check_chat_stream(client, "", self.title))
        return [_ours(c) for c in found]

    def metric_total(self, url: str, api_key: str, name: str) -> float | None:
        return check.metric_total(check.OpenAiClient(url, api_key), name)
