"""The clients people use against `workload simulate`, directly and through the rendered HTTPRoute.

huggingface_hub's InferenceClient, the openai package and the text-generation client, pinned in
pyproject.toml, make their ordinary calls with an API key. Every response is held to TGI's published
schemas (tgi_schemas.py). Through the route, a path filter admits exactly the rendered HTTPRoute's
matches, so a route that drops a path a client uses fails here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import openai
import pytest
import text_generation
from huggingface_hub import InferenceClient
from openai.types.chat import ChatCompletionMessageParam

from conftest import EXAMPLES, by_kind, helm_path, render_docs
from gateway import route_matches
from simulated import MODEL, Running, simulated
from workload.engines.tgi.simulator import Settings

API_KEY = "sk-simulated-0123"
PROMPT = "Kubernetes is"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is Kubernetes?"}]  # openai's type
HUB_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "What is Kubernetes?"}]  # huggingface_hub's
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@cache
def default_route_matches() -> list[tuple[str, str]]:
    """The path matches of the HTTPRoute the chart renders by default (ingress on, default paths)."""
    values = (EXAMPLES / "minimal.yaml").read_text() + "ingress:\n  enabled: true\n  host: llm.example.com\n"
    return route_matches(by_kind(render_docs(helm_path("helm4"), values), "HTTPRoute"))


@pytest.fixture(params=["direct", "through-route"])
def tgi(request: pytest.FixtureRequest) -> Iterator[Running]:
    matches = default_route_matches() if request.param == "through-route" else None
    with simulated(Settings(model_id=MODEL, api_key=API_KEY), matches) as running:
        yield running
        assert running.gateway.exchanges, "the test made no request"
        assert running.schema_errors() == []


def hub(url: str) -> InferenceClient:
    return InferenceClient(base_url=url, api_key=API_KEY)


def oai(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)


def tg(url: str) -> text_generation.Client:
    return text_generation.Client(url, headers={"Authorization": f"Bearer {API_KEY}"})


def _text(value: Any) -> str:
    assert isinstance(value, str), value
    assert value
    return value


# (client, call) -> a function of the base URL that makes the call and returns the generated text.
CALLS: dict[str, Callable[[str], str]] = {
    "huggingface_hub text_generation": lambda url: _text(hub(url).text_generation(PROMPT, max_new_tokens=8)),
    "huggingface_hub text_generation details": lambda url: _text(
        hub(url).text_generation(PROMPT, max_new_tokens=8, details=True).generated_text
    ),
    "huggingface_hub text_generation stream": lambda url: "".join(
        hub(url).text_generation(PROMPT, max_new_tokens=8, stream=True)
    ),
    "huggingface_hub text_generation stream details": lambda url: _text(
        list(hub(url).text_generation(PROMPT, max_new_tokens=8, stream=True, details=True))[-1].generated_text
    ),
    "huggingface_hub chat_completion": lambda url: _text(
        hub(url).chat_completion(HUB_MESSAGES, max_tokens=8).choices[0].message.content
    ),
    "huggingface_hub chat_completion stream": lambda url: "".join(
        chunk.choices[0].delta.content or ""
        for chunk in hub(url).chat_completion(HUB_MESSAGES, max_tokens=8, stream=True)
    ),
    "openai chat.completions": lambda url: _text(
        oai(url).chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=8).choices[0].message.content
    ),
    "openai chat.completions stream": lambda url: "".join(
        chunk.choices[0].delta.content or ""
        for chunk in oai(url).chat.completions.create(model="tgi", messages=MESSAGES, max_tokens=8, stream=True)
    ),
    "openai completions": lambda url: _text(
        oai(url).completions.create(model="tgi", prompt=PROMPT, max_tokens=8).choices[0].text
    ),
    "openai completions stream": lambda url: "".join(
        chunk.choices[0].text
        for chunk in oai(url).completions.create(model="tgi", prompt=PROMPT, max_tokens=8, stream=True)
    ),
    "text-generation generate": lambda url: _text(tg(url).generate(PROMPT, max_new_tokens=8).generated_text),
    "text-generation generate_stream": lambda url: "".join(
        r.token.text for r in tg(url).generate_stream(PROMPT, max_new_tokens=8)
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_client_call(tgi: Running, call: str) -> None:
    text = CALLS[call](tgi.url)
    assert len(text.split()) >= 4, text


def test_stream_and_plain_give_the_same_text(tgi: Running) -> None:
    """Deterministic: the same request gives the same answer, streamed or not. As in TGI, POST / returns
    the prompt too unless the client sets return_full_text (compat_generate, server.rs lines 133-136 and
    1800-1806: the default follows the model's text-generation pipeline tag); the stream's tokens do not."""
    plain = hub(tgi.url).text_generation(PROMPT, max_new_tokens=8)
    streamed = "".join(hub(tgi.url).text_generation(PROMPT, max_new_tokens=8, stream=True))
    assert plain == PROMPT + streamed
    assert hub(tgi.url).text_generation(PROMPT, max_new_tokens=8, return_full_text=False) == streamed


def test_chat_without_max_tokens_ends_with_the_end_of_sequence(tgi: Running) -> None:
    """Without max_tokens TGI generates until the model's end-of-sequence token: finish_reason 'stop'."""
    answer = oai(tgi.url).chat.completions.create(model="tgi", messages=MESSAGES)
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None
    assert answer.usage.completion_tokens == tgi.settings.answer_tokens + 1


def test_wrong_api_key_is_refused_by_every_client(tgi: Running) -> None:
    with pytest.raises(Exception, match="401"):
        InferenceClient(base_url=tgi.url, api_key="wrong").text_generation(PROMPT, max_new_tokens=2)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=tgi.url + "/v1", api_key="wrong", max_retries=0).chat.completions.create(
            model="tgi", messages=MESSAGES
        )
    # TGI's 401 has an empty body (server.rs line 2229), which text-generation 0.7.0 fails to read as
    # JSON: it raises a JSONDecodeError rather than its own error type, against the real server too.
    with pytest.raises(ValueError, match="Expecting value"):
        text_generation.Client(tgi.url).generate(PROMPT, max_new_tokens=2)


def test_the_default_route_admits_every_path_the_clients_use() -> None:
    """The compat route `/` (huggingface_hub and text-generation post there) and the OpenAI routes."""
    exact = {value for kind, value in default_route_matches() if kind == "Exact"}
    assert {"/", "/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/v1/models"} <= exact
    assert "/metrics" not in exact


def test_a_route_without_the_compat_path_fails_the_common_clients() -> None:
    """The filter is real: without `/` the most common TGI clients get the gateway's 404."""
    matches = [m for m in default_route_matches() if m != ("Exact", "/")]
    with simulated(Settings(model_id=MODEL, api_key=API_KEY), matches) as running:
        with pytest.raises(Exception, match="404"):
            hub(running.url).text_generation(PROMPT, max_new_tokens=2)
        with pytest.raises(ValueError, match="Expecting value"):  # text-generation reads the empty 404 as JSON
            tg(running.url).generate(PROMPT, max_new_tokens=2)
        assert oai(running.url).chat.completions.create(model="tgi", messages=MESSAGES).choices
        refused = [(x.path, x.status) for x in running.gateway.exchanges if x.status == 404]
        assert refused == [("/", 404), ("/", 404)]
