"""Building blocks shared by every workload type's values model.

Each constrained string type carries its pattern (which ends up in values.schema.json) and a sentence
saying what is allowed (which ends up in error messages), so both tools describe a bad value alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from workload.problems import Problem

# pattern -> what a person should be told is allowed; read by workload.problems.
PATTERN_TEXT: dict[str, str] = {}


def explained(pattern: str, allowed: str) -> str:
    """Register what a pattern allows, in plain words, and return the pattern."""
    PATTERN_TEXT[pattern] = allowed
    return pattern


def text(pattern: str, allowed: str, *, max_length: int, min_length: int = 0) -> StringConstraints:
    """The constraints of a string type: use as Annotated[str, text(pattern, allowed, max_length=...)].

    The pattern goes into values.schema.json; `allowed` says in plain words what it allows, for the
    message both tools print about a bad value. Every string gets a length bound, as every integer does.
    """
    return StringConstraints(pattern=explained(pattern, allowed), max_length=max_length, min_length=min_length or None)


def _integral_float_to_int(value: Any) -> Any:
    # Helm reads every YAML number as a float64 and JSON Schema counts 2.0 as an integer, so `2.0` must
    # be accepted here too; 2.5 and strings stay errors.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Use as Annotated[int, Field(ge=..., le=...), WHOLE], in that order (or the bounds leave the schema).
# Every integer gets an upper bound, so Helm, which formats large float64s as 1e+20, never renders one.
WHOLE = BeforeValidator(_integral_float_to_int)


# Helm caps release names at 53 characters, and the release is named after the service by default.
HELM_RELEASE_NAME_MAX = 53
ServiceName = Annotated[
    str,
    text(
        r"^[a-z]([-a-z0-9]*[a-z0-9])?$",
        "a DNS-1035 label (a Service name): lowercase letters, digits and '-', starting with a letter and "
        "ending with a letter or digit",
        max_length=HELM_RELEASE_NAME_MAX,
        min_length=1,
    ),
]
# Kubernetes namespace names are DNS-1123 labels: they may start with a digit (`1team`), unlike Services.
NAMESPACE_PATTERN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
Namespace = Annotated[
    str,
    text(
        f"^{NAMESPACE_PATTERN}$",
        "a namespace name (a DNS-1123 label): lowercase letters, digits and '-', starting and ending with a "
        "letter or digit",
        max_length=63,
        min_length=1,
    ),
]
NamespaceOrEmpty = Annotated[
    str,
    text(
        f"^({NAMESPACE_PATTERN})?$",
        "empty, or a namespace name (a DNS-1123 label): lowercase letters, digits and '-', starting and "
        "ending with a letter or digit",
        max_length=63,
    ),
]
DnsSubdomainOrEmpty = Annotated[
    str,
    text(
        r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$",
        "empty, or a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'",
        max_length=253,
    ),
]
DnsSubdomain = Annotated[
    str,
    text(
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.'",
        max_length=253,
        min_length=1,
    ),
]
LabelValue = Annotated[
    str,
    text(
        r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
        "a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
        max_length=63,
        min_length=1,
    ),
]
LabelValueOrEmpty = Annotated[
    str,
    text(
        r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$",
        "empty, or a Kubernetes label value: letters, digits, '-', '_' and '.', starting and ending with a "
        "letter or digit",
        max_length=63,
    ),
]
LabelKey = Annotated[
    str,
    text(
        r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$",
        "a Kubernetes label key: an optional DNS prefix and '/', then a name of letters, digits, '-', '_', '.'",
        max_length=316,
        min_length=1,
    ),
]
Hostname = Annotated[
    str,
    text(
        r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        "a lowercase DNS host name such as llm.example.com (a leading '*.' wildcard is allowed)",
        max_length=253,
        min_length=1,
    ),
]
HostnameOrEmpty = Annotated[
    str,
    text(
        r"^((\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$",
        "empty, or a lowercase DNS host name such as llm.example.com (a leading '*.' wildcard is allowed)",
        max_length=253,
    ),
]
CpuQuantity = Annotated[
    str,
    text(
        r"^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$",
        "a CPU quantity as a quoted string: whole or decimal cores ('2', '0.5') or millicores ('500m')",
        max_length=20,
        min_length=1,
    ),
]
MemoryQuantity = Annotated[
    str,
    text(
        r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
        "a memory quantity as a quoted string: a number with an optional suffix Ki, Mi, Gi, Ti, k, M, G, T "
        "('8Gi', '512Mi')",
        max_length=20,
        min_length=1,
    ),
]
MemoryQuantityOrEmpty = Annotated[
    str,
    text(
        r"^([0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?)?$",
        "empty, or a memory quantity as a quoted string such as '2Gi' or '512Mi'",
        max_length=20,
    ),
]
EnvVarName = Annotated[
    str,
    text(
        r"^[A-Za-z_][A-Za-z0-9_]*$",
        "an environment variable name: letters, digits and '_', not starting with a digit",
        max_length=256,
        min_length=1,
    ),
]
# Gateway API's Duration (GEP-2257), the pattern of HTTPRoute rules[].timeouts.
GatewayDuration = Annotated[
    str,
    text(
        r"^([0-9]{1,5}(h|m|s|ms)){1,4}$",
        "a Gateway API duration such as '10m', '90s' or '1h30m' ('0s' disables the timeout)",
        max_length=24,
        min_length=1,
    ),
]
RefreshInterval = Annotated[
    str,
    text(
        r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$",
        "a Go duration such as '1h', '15m' or '30s' ('0' is not allowed: use a positive interval)",
        max_length=32,
        min_length=1,
    ),
]


SecretKey = Annotated[
    str, text(r"^[-._a-zA-Z0-9]+$", "a Secret key: letters, digits, '-', '_' and '.'", max_length=253, min_length=1)
]


# The deployment environment a workload runs in (the design's shared `Environment` type).
Environment = Literal["dev", "staging", "prod"]


# Free text that still fits in a YAML manifest: YAML cannot carry C0/C1 control characters (other than
# tab and line breaks) nor U+FFFE/U+FFFF, so helm would fail on the rendered file; refused up front.
FreeText = Annotated[
    str,
    text(
        "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F\ufffe\uffff]*$",
        "text without control characters (tab and line breaks are allowed)",
        max_length=32768,
    ),
]


class ValuesModel(BaseModel):
    """Base for every values object: camelCase keys, unknown keys rejected, no silent type coercion."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        validate_default=True,
    )

    def problems(self) -> Iterator[Problem]:
        """Cross-field rules of this object; none unless a subclass has some."""
        return iter(())


class SecretKeyRef(ValuesModel):
    """A key in an existing Kubernetes Secret in the workload's namespace."""

    name: DnsSubdomain = Field(description="Name of the Secret.")
    key: SecretKey = Field(description="Key inside the Secret.")


class EnvironmentVariableObj(ValuesModel):
    """One extra environment variable for the container: a literal value or a reference to a Secret key."""

    name: EnvVarName = Field(description="Variable name.")
    value: FreeText | None = Field(
        default=None,
        description="Literal value (a string: quote numbers and booleans). Never put a secret here; use secretKeyRef.",
    )
    secret_key_ref: SecretKeyRef | None = Field(
        default=None, description="Take the value from a key of an existing Secret instead of a literal."
    )
