{{/*
The TGI engine (workload/engines/tgi): how the contract becomes TGI's environment, its own rules, its drain.
TGI takes every setting from its environment (the launcher reads each flag's env twin), so it gets no args.
Every engine's partial defines the same names: validate, drainSeconds, args, env, testEnv, notesLoading.
*/}}

{{/* TGI's own cross-field rules, in the order of workload/engines/tgi/rules.py. */}}
{{- define "ml-inference-load.engine.tgi.validate" -}}
{{- $m := (include "ml-inference-load.engineFacts" . | fromJson).messages -}}
{{- $inf := .Values.inference -}}
{{- $model := .Values.model -}}
{{- $inputTokens := include "ml-inference-load.engine.tgi.inputTokens" . | int64 -}}
{{- $totalTokens := int64 $inf.maxTotalTokens -}}
{{- if ge $inputTokens $totalTokens -}}
{{- fail (printf $m.inputBelowTotal $inputTokens $totalTokens) -}}
{{- end -}}
{{- $hasPrefill := not (kindIs "invalid" $inf.maxBatchPrefillTokens) -}}
{{- $hasBatch := not (kindIs "invalid" $inf.maxBatchTotalTokens) -}}
{{- if and $hasPrefill (lt (int64 $inf.maxBatchPrefillTokens) $inputTokens) -}}
{{- fail (printf $m.prefillBelowInput (int64 $inf.maxBatchPrefillTokens) $inputTokens) -}}
{{- end -}}
{{- if and $hasBatch (lt (int64 $inf.maxBatchTotalTokens) $totalTokens) -}}
{{- fail (printf $m.batchBelowTotal (int64 $inf.maxBatchTotalTokens) $totalTokens) -}}
{{- end -}}
{{- if and $hasPrefill $hasBatch (gt (int64 $inf.maxBatchPrefillTokens) (int64 $inf.maxBatchTotalTokens)) -}}
{{- fail (printf $m.prefillAboveBatch (int64 $inf.maxBatchPrefillTokens) (int64 $inf.maxBatchTotalTokens)) -}}
{{- end -}}
{{- if and $model.dtype $model.quantization -}}
{{- fail $m.dtypeWithQuantization -}}
{{- end -}}
{{- if and (eq ($model.quantization | default "") "exl2") (gt (int64 .Values.gpu.count) 1) -}}
{{- fail $m.exl2Sharded -}}
{{- end -}}
{{- $gates := (include "ml-inference-load.engineFacts" . | fromJson).versionGates -}}
{{- $used := dict
  "model.quantization" (eq ($model.quantization | default "") "compressed-tensors")
  "inference.payloadLimit" (not (kindIs "invalid" $inf.payloadLimit))
  "inference.gracefulTerminationTimeout" (not (kindIs "invalid" $inf.gracefulTerminationTimeout))
  "apiKey" (or .Values.apiKey.vaultPath .Values.apiKey.existingSecret | toString | ne "")
-}}
{{- range $path := list "model.quantization" "inference.payloadLimit" "inference.gracefulTerminationTimeout" "apiKey" -}}
{{- if get $used $path -}}
{{- include "ml-inference-load.needsVersion" (dict "root" $ "path" $path "need" (get $gates $path)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Seconds TGI drains in-flight requests after SIGTERM: GRACEFUL_TERMINATION_TIMEOUT, else its default. */}}
{{- define "ml-inference-load.engine.tgi.drainSeconds" -}}
{{- $drain := int64 (include "ml-inference-load.engineFacts" . | fromJson).defaultDrainSeconds -}}
{{- if not (kindIs "invalid" .Values.inference.gracefulTerminationTimeout) -}}
{{- $drain = int64 .Values.inference.gracefulTerminationTimeout -}}
{{- end -}}
{{- $drain -}}
{{- end -}}

{{/* inference.maxInputLength, else the chart's default for TGI (rules.py input_tokens). */}}
{{- define "ml-inference-load.engine.tgi.inputTokens" -}}
{{- $default := index (include "ml-inference-load.engineFacts" . | fromJson).fieldDefaults "inference.maxInputLength" -}}
{{- int64 (.Values.inference.maxInputLength | default $default) -}}
{{- end -}}

{{/*
TGI's image runs text-generation-launcher, which reads its settings from the environment: the args are only
inference.extraArgs (its flags), in order.
*/}}
{{- define "ml-inference-load.engine.tgi.args" -}}
{{- range .Values.inference.extraArgs }}
- {{ . | quote }}
{{- end -}}
{{- end -}}

{{/* The image's own entry point runs the engine: no command. */}}
{{- define "ml-inference-load.engine.tgi.command" -}}
{{- end -}}

{{/* The container's environment from the contract, as a YAML list (the core adds the cache, token and key). */}}
{{- define "ml-inference-load.engine.tgi.env" -}}
{{- $v := .Values -}}
- name: MODEL_ID
  value: {{ $v.model.id | quote }}
- name: REVISION
  value: {{ $v.model.revision | quote }}
{{- with $v.model.quantization }}
- name: QUANTIZE
  value: {{ . | quote }}
{{- end }}
{{- with $v.model.dtype }}
- name: DTYPE
  value: {{ . | quote }}
{{- end }}
{{- if $v.model.trustRemoteCode }}
- name: TRUST_REMOTE_CODE
  value: "true"
{{- end }}
# MAX_INPUT_LENGTH is TGI's legacy alias; setting both is a startup error.
- name: MAX_INPUT_TOKENS
  value: {{ include "ml-inference-load.engine.tgi.inputTokens" . | quote }}
- name: MAX_TOTAL_TOKENS
  value: {{ int64 $v.inference.maxTotalTokens | quote }}
{{- range $name, $key := dict "MAX_CONCURRENT_REQUESTS" "maxConcurrentRequests" "MAX_BATCH_PREFILL_TOKENS" "maxBatchPrefillTokens" "MAX_BATCH_TOTAL_TOKENS" "maxBatchTotalTokens" "PAYLOAD_LIMIT" "payloadLimit" "GRACEFUL_TERMINATION_TIMEOUT" "gracefulTerminationTimeout" }}
{{- $value := index $v.inference $key }}
{{- if not (kindIs "invalid" $value) }}
- name: {{ $name }}
  value: {{ int64 $value | quote }}
{{- end }}
{{- end }}
{{- if not (kindIs "invalid" $v.inference.memoryFraction) }}
- name: CUDA_MEMORY_FRACTION
  value: {{ $v.inference.memoryFraction | toString | quote }}
{{- end }}
{{- if not (kindIs "invalid" $v.inference.cudaGraphs) }}
{{- $graphs := list }}
{{- range $v.inference.cudaGraphs }}{{ $graphs = append $graphs (int64 . | toString) }}{{ end }}
- name: CUDA_GRAPHS
  value: {{ join "," $graphs | quote }}
{{- end }}
# The image defaults to PORT=80; the probes and Service use this port.
- name: PORT
  value: {{ int64 $v.inference.port | quote }}
# Kubernetes sets HOSTNAME to the pod name, which TGI would take as its bind address.
- name: HOSTNAME
  value: "0.0.0.0"
# TGI counts NVIDIA_VISIBLE_DEVICES=all as one GPU, so the shard count is explicit.
- name: NUM_SHARD
  value: {{ int64 $v.gpu.count | quote }}
{{- end -}}

{{/* The simulator pod's command: TGI's simulator reads the same environment as TGI (files/tgi_simulator.py). */}}
{{- define "ml-inference-load.engine.tgi.simulatorCommand" -}}
{{- $script := (include "ml-inference-load.engineFacts" . | fromJson).simulatorScript -}}
{{- range list "python3" "-I" "-B" (printf "/simulator/%s" $script) "--from-env" "--host" "0.0.0.0" "--port" (int64 .Values.inference.port | toString) }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The helm-test script's environment (files/tgi_check.py reads TGI_URL and MODEL_ID). */}}
{{- define "ml-inference-load.engine.tgi.testEnv" -}}
- name: TGI_URL
  value: {{ printf "http://%s.%s.svc:%d" (include "ml-inference-load.fullname" .) (include "ml-inference-load.namespace" .) (int64 (include "ml-inference-load.facts" . | fromJson).chart.servicePort) | quote }}
- name: MODEL_ID
  value: {{ .Values.model.id | quote }}
{{- end -}}

{{/* NOTES.txt: what TGI logs on its way to serving; a first request (called with (dict "root" $ "url" ...)). */}}
{{- define "ml-inference-load.engine.tgi.notesLoading" -}}
# "Successfully downloaded weights" -> "Warming up model" -> "Connected" means ready.
{{- end -}}

{{- define "ml-inference-load.engine.tgi.notesRequest" -}}
{{- $auth := or .root.Values.apiKey.vaultPath .root.Values.apiKey.existingSecret -}}
curl -s {{ .url }}/generate -H 'Content-Type: application/json'{{ if $auth }} -H "Authorization: Bearer $API_KEY"{{ end }} \
  -d '{"inputs": "What is Kubernetes?", "parameters": {"max_new_tokens": 32}}'
{{- end -}}
