"""What `workload verify` asks TGI: the helm-test script's request checks (check.py, standard library only
because the test pod runs it), called in-process, and where a release's pod spec names the model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workload.checks import Check
from workload.engines.tgi import check


def _ours(found: check.Check) -> Check:
    return Check(found.name, found.ok, found.detail, found.hint)


class TgiVerifier:
    request_checks: tuple[str, ...] = ("health", "info", "generate", "generate_stream", "chat_completion")

    def model_id(self, container: Mapping[str, Any]) -> str:
        """TGI reads the model from MODEL_ID (the chart sets it as a literal)."""
        env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
        return str(env.get("MODEL_ID", ""))

    def run_request_checks(self, url: str, api_key: str, model_id: str) -> list[Check]:
        return [_ours(c) for c in check.request_checks(check.TgiClient(url, api_key), model_id)]

    def gateway_checks(self, url: str, api_key: str, host: str) -> list[Check]:
        """The cheap checks through the gateway: health, the model's info and one chat completion."""
        client = check.TgiClient(url, api_key, host)
        found = (check.check_health(client), check.check_info(client, ""), check.check_chat_completion(client))
        return [_ours(c) for c in found]

    def metric_total(self, url: str, api_key: str, name: str) -> float | None:
        return check.metric_total(check.TgiClient(url, api_key), name)


VERIFIER = TgiVerifier()
