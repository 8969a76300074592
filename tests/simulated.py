"""The TGI simulator (`workload simulate`) behind a recording gateway, as a fixture for tests.

Every exchange through the recorder is held to TGI's published schemas when the test ends, so a test
that passes a client call has also checked what the simulator answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import gateway
from serving import serve
from tgi_schemas import response_errors
from workload.engines.tgi.simulator import Settings, Simulator

MODEL = "Qwen/Qwen2.5-0.5B-Instruct"


@dataclass
class Running:
    url: str  # where clients call: the recorder (or route filter) in front of the simulator
    simulator: Simulator
    gateway: gateway.Gateway

    @property
    def settings(self) -> Settings:
        return self.simulator.settings

    def schema_errors(self) -> list[str]:
        return [
            f"{x.method} {x.path} -> {x.status}: {error}"
            for x in self.gateway.exchanges
            for error in response_errors(x.method, x.path, x.request_body, x.status, x.content_type, x.response_body)
        ]


@contextmanager
def simulated(settings: Settings | None = None, matches: list[tuple[str, str]] | None = None) -> Iterator[Running]:
    """The simulator on a free loopback port, behind a gateway that admits `matches` (None: everything)."""
    simulator = Simulator(("127.0.0.1", 0), settings or Settings(model_id=MODEL))
    with ExitStack() as stack:
        upstream = stack.enter_context(serve(simulator))
        recorder = gateway.Gateway(upstream, matches)
        url = stack.enter_context(gateway.running(recorder))
        yield Running(url, simulator, recorder)
