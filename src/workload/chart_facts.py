"""Names the ML_INFERENCE_LOAD chart and the tools share, written once, whatever the engine.

The values rules, `deploy`, `verify` and the tests read them from here; the chart's templates read the same
names from templates/_facts.tpl, which `workload generate` writes (generate/template_facts.py) from this
module, the rules' messages and the engines (and `workload generate --check` keeps in step).
"""

from __future__ import annotations

CHART_NAME = "ml-inference-load"
CONTAINER_NAME = "inference"  # the engine (or simulator) container of the Deployment
PORT_NAME = "http"  # the container and Service port name; a ServiceMonitor selects it by name
SERVICE_PORT = 80
# Selector labels; `app` is the design's, the other two the standard pair (app.kubernetes.io/name is fixed).
SELECTOR_LABEL_KEYS = ("app", "app.kubernetes.io/name", "app.kubernetes.io/instance")
# Every label the chart sets on its objects (templates/_labels.tpl "ml-inference-load.labels").
CHART_LABEL_KEYS = (
    *SELECTOR_LABEL_KEYS, "app.kubernetes.io/version", "app.kubernetes.io/component", "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by", "helm.sh/chart", "environment", "backstage.io/kubernetes-id",
)  # fmt: skip
# Keys of the Secrets the ExternalSecrets write.
HF_TOKEN_SECRET_KEY = "token"
API_KEY_SECRET_KEY = "api-key"
# The Deployment annotation naming the engine that serves, so `verify` asks the right engine; rendered only
# for an engine other than the default (engines.DEFAULT_ENGINE), so a default release renders as before.
ENGINE_ANNOTATION = "ml-inference-load.io/engine"

# Variables the chart sets itself for every engine, and the values field a user should change instead; each
# engine adds its own (workload/engines/<name>: Engine.managed_env).
CHART_ENV: dict[str, str] = {
    "HF_HOME": "storage.modelCache.mountPath",
    "HF_HUB_OFFLINE": "storage.modelCache.offline",
    "HOME": "nothing (the chart points it at the writable /tmp)",
    "NUMBA_CACHE_DIR": "nothing (the chart points it at the writable /tmp)",
    "HF_TOKEN": "vault.hfTokenPath or hfToken.existingSecret",
    "HUGGING_FACE_HUB_TOKEN": "vault.hfTokenPath or hfToken.existingSecret",
    "SIMULATOR_TOKEN_DELAY_MS": "simulator.tokenDelayMs",
}
# Names that hold credentials by convention: their value must come from a Secret, never a literal.
SECRET_LIKE_ENV = r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)$"
