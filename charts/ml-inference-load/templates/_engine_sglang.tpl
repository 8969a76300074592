{{/*
The SGLang engine (workload/engines/sglang): how the contract becomes SGLang's command line, its rules, its drain.
The image has no entry point: the container runs `python3 -m sglang.launch_server` with the flags. The key is
passed as --api-key $(API_KEY), which the kubelet fills from the Secret. Same partial names as every engine's.
*/}}

{{/* SGLang's own cross-field rules (workload/engines/sglang/rules.py: none yet). */}}
{{- define "ml-inference-load.engine.sglang.validate" -}}
{{- end -}}

{{/* SGLang drains until done: the grace period after the preStop pause and its exit bounds it (rules.py). */}}
{{- define "ml-inference-load.engine.sglang.drainSeconds" -}}
{{- max 1 (sub (sub (int64 .Values.inference.terminationGracePeriodSeconds) (int64 .Values.scaling.preStopSeconds)) 5) -}}
{{- end -}}

{{/* The image's Dockerfile has no ENTRYPOINT: the server is a Python module. */}}
{{- define "ml-inference-load.engine.sglang.command" -}}
- "python3"
- "-m"
- "sglang.launch_server"
{{- end -}}

{{/* --model-path MODEL --flag value ..., then inference.extraArgs. */}}
{{- define "ml-inference-load.engine.sglang.args" -}}
{{- $v := .Values -}}
- "--model-path"
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
- "--context-length"
- {{ int64 $v.inference.maxTotalTokens | quote }}
{{- if not (kindIs "invalid" $v.inference.maxConcurrentRequests) }}
- "--max-running-requests"
- {{ int64 $v.inference.maxConcurrentRequests | quote }}
{{- end }}
{{- if not (kindIs "invalid" $v.inference.memoryFraction) }}
- "--mem-fraction-static"
- {{ $v.inference.memoryFraction | toString | quote }}
{{- end }}
- "--tp-size"
- {{ int64 $v.gpu.count | quote }}
# SGLang binds 127.0.0.1 by default, where neither the kubelet nor the Service reaches it.
- "--host"
- "0.0.0.0"
- "--port"
- {{ int64 $v.inference.port | quote }}
# /metrics exists only with --enable-metrics.
- "--enable-metrics"
{{- if or $v.apiKey.vaultPath $v.apiKey.existingSecret }}
- "--api-key"
- "$(API_KEY)"
{{- end }}
{{- range $v.inference.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The container's environment from the contract: none beyond the core's (cache, token, key). */}}
{{- define "ml-inference-load.engine.sglang.env" -}}
{{- end -}}

{{/* The simulator pod's command: the OpenAI simulator as SGLang, with SGLang's own command line. */}}
{{- define "ml-inference-load.engine.sglang.simulatorCommand" -}}
{{- $script := (include "ml-inference-load.engineFacts" . | fromJson).simulatorScript -}}
{{- range list "python3" "-I" "-B" (printf "/simulator/%s" $script) "--engine" "sglang" }}
- {{ . | quote }}
{{- end }}
{{ include "ml-inference-load.engine.sglang.args" . }}
{{- end -}}

{{/* The helm-test script's environment (files/openai_check.py reads ENGINE_URL, ENGINE_TITLE and MODEL_ID). */}}
{{- define "ml-inference-load.engine.sglang.testEnv" -}}
- name: ENGINE_URL
  value: {{ printf "http://%s.%s.svc:%d" (include "ml-inference-load.fullname" .) (include "ml-inference-load.namespace" .) (int64 (include "ml-inference-load.facts" . | fromJson).chart.servicePort) | quote }}
- name: ENGINE_TITLE
  value: "SGLang"
- name: MODEL_ID
  value: {{ .Values.model.id | quote }}
{{- end -}}

{{/* NOTES.txt: what SGLang logs on its way to serving; a first request. */}}
{{- define "ml-inference-load.engine.sglang.notesLoading" -}}
# "Load weight end" -> "KV Cache is allocated" -> "The server is fired up and ready to roll!" means ready.
{{- end -}}

{{- define "ml-inference-load.engine.sglang.notesRequest" -}}
{{- $auth := or .root.Values.apiKey.vaultPath .root.Values.apiKey.existingSecret -}}
curl -s {{ .url }}/v1/chat/completions -H 'Content-Type: application/json'{{ if $auth }} -H "Authorization: Bearer $API_KEY"{{ end }} \
  -d '{"model": "{{ .root.Values.model.id }}", "messages": [{"role": "user", "content": "What is Kubernetes?"}], "max_tokens": 32}'
{{- end -}}
