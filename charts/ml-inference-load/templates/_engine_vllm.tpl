{{/*
The vLLM engine (workload/engines/vllm): how the contract becomes vLLM's command line, its own rules, its drain.
The image's entry point is `vllm serve`, so args are the model (positional) and flags; the key comes from the
environment (VLLM_API_KEY, set by the core from the Secret). Same partial names as every engine's.
*/}}

{{/* vLLM's own cross-field rules (workload/engines/vllm/rules.py: none yet). */}}
{{- define "ml-inference-load.engine.vllm.validate" -}}
{{- end -}}

{{/*
Seconds vLLM drains after SIGTERM (--shutdown-timeout): gracefulTerminationTimeout, else what fits in the grace
period after the preStop pause and vLLM's exit (rules.py drain_seconds). Its own default, 0, cuts every stream.
*/}}
{{- define "ml-inference-load.engine.vllm.drainSeconds" -}}
{{- $inf := .Values.inference -}}
{{- if not (kindIs "invalid" $inf.gracefulTerminationTimeout) -}}
{{- int64 $inf.gracefulTerminationTimeout -}}
{{- else -}}
{{- max 1 (sub (sub (int64 $inf.terminationGracePeriodSeconds) (int64 .Values.scaling.preStopSeconds)) 5) -}}
{{- end -}}
{{- end -}}

{{/* `vllm serve MODEL --flag value ...`: the model first (without one vLLM serves Qwen/Qwen3-0.6B), then inference.extraArgs. */}}
{{- define "ml-inference-load.engine.vllm.args" -}}
{{- $v := .Values -}}
- {{ $v.model.id | quote }}
- "--served-model-name"
- {{ $v.model.id | quote }}
- "--revision"
- {{ $v.model.revision | quote }}
{{- with $v.model.quantization }}
- "--quantization"
- {{ . | quote }}
{{- end }}
{{- with $v.model.dtype }}
- "--dtype"
- {{ . | quote }}
{{- end }}
{{- if $v.model.trustRemoteCode }}
- "--trust-remote-code"
{{- end }}
- "--max-model-len"
- {{ int64 $v.inference.maxTotalTokens | quote }}
{{- if not (kindIs "invalid" $v.inference.maxConcurrentRequests) }}
- "--max-num-seqs"
- {{ int64 $v.inference.maxConcurrentRequests | quote }}
{{- end }}
{{- if not (kindIs "invalid" $v.inference.memoryFraction) }}
- "--gpu-memory-utilization"
- {{ $v.inference.memoryFraction | toString | quote }}
{{- end }}
- "--tensor-parallel-size"
- {{ int64 $v.gpu.count | quote }}
- "--port"
- {{ int64 $v.inference.port | quote }}
- "--shutdown-timeout"
- {{ include "ml-inference-load.engine.vllm.drainSeconds" . | quote }}
{{- range $v.inference.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The image's own entry point runs the engine: no command. */}}
{{- define "ml-inference-load.engine.vllm.command" -}}
{{- end -}}

{{/* The container's environment from the contract (the core adds the cache, token and key). */}}
{{- define "ml-inference-load.engine.vllm.env" -}}
# The engine must be ready within this (weights download included); its default, 600 s, would end a start the
# startup budget still allows.
- name: VLLM_ENGINE_READY_TIMEOUT_S
  value: {{ int64 .Values.healthCheck.startupTimeoutSeconds | quote }}
# vLLM reports usage to its project by default; a platform's pods do not phone home.
- name: VLLM_NO_USAGE_STATS
  value: "1"
{{- end -}}

{{/* The simulator pod's command: the OpenAI simulator as vLLM, with vLLM's own command line (files/openai_simulator.py). */}}
{{- define "ml-inference-load.engine.vllm.simulatorCommand" -}}
{{- $script := (include "ml-inference-load.engineFacts" . | fromJson).simulatorScript -}}
{{- range list "python3" "-I" "-B" (printf "/simulator/%s" $script) "--engine" "vllm" "--host" "0.0.0.0" }}
- {{ . | quote }}
{{- end }}
{{ include "ml-inference-load.engine.vllm.args" . }}
{{- end -}}

{{/* The helm-test script's environment (files/openai_check.py reads ENGINE_URL, ENGINE_TITLE and MODEL_ID). */}}
{{- define "ml-inference-load.engine.vllm.testEnv" -}}
- name: ENGINE_URL
  value: {{ printf "http://%s.%s.svc:%d" (include "ml-inference-load.fullname" .) (include "ml-inference-load.namespace" .) (int64 (include "ml-inference-load.facts" . | fromJson).chart.servicePort) | quote }}
- name: ENGINE_TITLE
  value: "vLLM"
- name: MODEL_ID
  value: {{ .Values.model.id | quote }}
{{- end -}}

{{/* NOTES.txt: what vLLM logs on its way to serving; a first request (called with (dict "root" $ "url" ...)). */}}
{{- define "ml-inference-load.engine.vllm.notesLoading" -}}
# "Loading weights took" -> "GPU KV cache size" -> "Application startup complete." means ready.
{{- end -}}

{{- define "ml-inference-load.engine.vllm.notesRequest" -}}
{{- $auth := or .root.Values.apiKey.vaultPath .root.Values.apiKey.existingSecret -}}
curl -s {{ .url }}/v1/chat/completions -H 'Content-Type: application/json'{{ if $auth }} -H "Authorization: Bearer $API_KEY"{{ end }} \
  -d '{"model": "{{ .root.Values.model.id }}", "messages": [{"role": "user", "content": "What is Kubernetes?"}], "max_tokens": 32}'
{{- end -}}
