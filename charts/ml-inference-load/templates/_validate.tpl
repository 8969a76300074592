{{/*
Cross-field rules. values.schema.json checks each field alone; these check fields against each other,
with the same messages and in the same order as the Python model (workload.models.ml_inference_load.rules),
so plain `helm template` and `workload validate` give one answer. Helm stops at the first failure.
*/}}
{{- define "ml-inference-load.validate" -}}
{{- include "ml-inference-load.validateEngine" . -}}
{{- include "ml-inference-load.validateExposure" . -}}
{{- include "ml-inference-load.validateCredentials" . -}}
{{- include "ml-inference-load.validateResources" . -}}
{{- include "ml-inference-load.validateEnvironment" . -}}
{{- include "ml-inference-load.validateSecurity" . -}}
{{- include "ml-inference-load.validateScaling" . -}}
{{- end -}}

{{- define "ml-inference-load.validateEngine" -}}
{{- $inf := .Values.inference -}}
{{- $model := .Values.model -}}
{{- $inputTokens := int64 $inf.maxInputLength -}}
{{- $totalTokens := int64 $inf.maxTotalTokens -}}
{{- if ge $inputTokens $totalTokens -}}
{{- fail (printf "inference.maxInputLength: must be less than inference.maxTotalTokens (%d >= %d)" $inputTokens $totalTokens) -}}
{{- end -}}
{{- $hasPrefill := not (kindIs "invalid" $inf.maxBatchPrefillTokens) -}}
{{- $hasBatch := not (kindIs "invalid" $inf.maxBatchTotalTokens) -}}
{{- if and $hasPrefill (lt (int64 $inf.maxBatchPrefillTokens) $inputTokens) -}}
{{- fail (printf "inference.maxBatchPrefillTokens: must be at least inference.maxInputLength (%d < %d); TGI finds this only after loading the model" (int64 $inf.maxBatchPrefillTokens) $inputTokens) -}}
{{- end -}}
{{- if and $hasBatch (lt (int64 $inf.maxBatchTotalTokens) $totalTokens) -}}
{{- fail (printf "inference.maxBatchTotalTokens: must be at least inference.maxTotalTokens (%d < %d)" (int64 $inf.maxBatchTotalTokens) $totalTokens) -}}
{{- end -}}
{{- if and $hasPrefill $hasBatch (gt (int64 $inf.maxBatchPrefillTokens) (int64 $inf.maxBatchTotalTokens)) -}}
{{- fail (printf "inference.maxBatchPrefillTokens: must not exceed inference.maxBatchTotalTokens (%d > %d)" (int64 $inf.maxBatchPrefillTokens) (int64 $inf.maxBatchTotalTokens)) -}}
{{- end -}}
{{- if and $model.dtype $model.quantization -}}
{{- fail "model.dtype: cannot be combined with model.quantization; TGI refuses both" -}}
{{- end -}}
{{- if and (eq ($model.quantization | default "") "exl2") (gt (int64 .Values.gpu.count) 1) -}}
{{- fail "model.quantization: exl2 models cannot be sharded; set gpu.count to 1" -}}
{{- end -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- $used := dict
  "model.quantization" (eq ($model.quantization | default "") "compressed-tensors")
  "inference.payloadLimit" (not (kindIs "invalid" $inf.payloadLimit))
  "inference.gracefulTerminationTimeout" (not (kindIs "invalid" $inf.gracefulTerminationTimeout))
  "apiKey" (or .Values.apiKey.vaultPath .Values.apiKey.existingSecret | toString | ne "")
-}}
{{- range $path := list "model.quantization" "inference.payloadLimit" "inference.gracefulTerminationTimeout" "apiKey" -}}
{{- if get $used $path -}}
{{- include "ml-inference-load.needsTgi" (dict "root" $ "path" $path "need" (get $facts.versionGates $path)) -}}
{{- end -}}
{{- end -}}
{{- $drain := int64 $facts.tgiDefaultDrainSeconds -}}
{{- if not (kindIs "invalid" $inf.gracefulTerminationTimeout) -}}
{{- $drain = int64 $inf.gracefulTerminationTimeout -}}
{{- end -}}
{{- $grace := int64 $inf.terminationGracePeriodSeconds -}}
{{- $pause := int64 .Values.scaling.preStopSeconds -}}
{{- if le $grace (add $pause $drain | int64) -}}
{{- fail (printf "inference.terminationGracePeriodSeconds: must be greater than scaling.preStopSeconds plus TGI's graceful drain of %d s (%d <= %d + %d)" (int64 $drain) $grace $pause (int64 $drain)) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateExposure" -}}
{{- $ingress := .Values.ingress -}}
{{- if and $ingress.enabled (not $ingress.host) -}}
{{- fail "ingress.host: required when ingress.enabled is true" -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $i, $path := $ingress.paths -}}
{{- if eq $path "/metrics" -}}
{{- fail (printf "ingress.paths[%d]: /metrics is never exposed through the gateway" $i) -}}
{{- else if hasKey $seen $path -}}
{{- fail (printf "ingress.paths[%d]: %s is listed twice" $i $path) -}}
{{- end -}}
{{- $_ := set $seen $path true -}}
{{- end -}}
{{- $monitor := .Values.monitoring.serviceMonitor -}}
{{- $chartLabels := include "ml-inference-load.labels" . | fromYaml -}}
{{- range $path, $labels := dict "monitoring.serviceMonitor.labels" $monitor.labels "monitoring.grafanaDashboard.labels" .Values.monitoring.grafanaDashboard.labels -}}
{{- range $key := keys $labels | sortAlpha -}}
{{- if hasKey $chartLabels $key -}}
{{- fail (printf "%s: %s is set by the chart; choose another label key" $path $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (int64 (include "ml-inference-load.durationMs" $monitor.scrapeTimeout)) (int64 (include "ml-inference-load.durationMs" $monitor.interval)) -}}
{{- fail (printf "monitoring.serviceMonitor.scrapeTimeout: must not exceed monitoring.serviceMonitor.interval (%s > %s)" $monitor.scrapeTimeout $monitor.interval) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateCredentials" -}}
{{- if and .Values.vault.hfTokenPath .Values.hfToken.existingSecret -}}
{{- fail "hfToken.existingSecret: cannot be combined with vault.hfTokenPath; choose one source for the token" -}}
{{- end -}}
{{- if and .Values.apiKey.vaultPath .Values.apiKey.existingSecret -}}
{{- fail "apiKey.existingSecret: cannot be combined with apiKey.vaultPath; choose one source for the key" -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateResources" -}}
{{- $req := .Values.resources.requests -}}
{{- $lim := .Values.resources.limits -}}
{{- if gt (float64 (include "ml-inference-load.cpuMillicores" $req.cpu)) (float64 (include "ml-inference-load.cpuMillicores" $lim.cpu)) -}}
{{- fail (printf "resources.requests.cpu: must not exceed resources.limits.cpu (%s > %s)" $req.cpu $lim.cpu) -}}
{{- end -}}
{{- $limitBytes := float64 (include "ml-inference-load.memoryBytes" $lim.memory) -}}
{{- if gt (float64 (include "ml-inference-load.memoryBytes" $req.memory)) $limitBytes -}}
{{- fail (printf "resources.requests.memory: must not exceed resources.limits.memory (%s > %s)" $req.memory $lim.memory) -}}
{{- end -}}
{{- $shm := include "ml-inference-load.shmSize" . -}}
{{- if gt (float64 (include "ml-inference-load.memoryBytes" $shm)) $limitBytes -}}
{{- fail (printf "inference.shmSize: must not exceed resources.limits.memory (%s > %s); /dev/shm is memory" $shm $lim.memory) -}}
{{- end -}}
{{- $cache := .Values.storage.modelCache -}}
{{- if and $cache.offline (not $cache.enabled) -}}
{{- fail "storage.modelCache.offline: needs storage.modelCache.enabled; offline, TGI loads weights only from the cache" -}}
{{- end -}}
{{- if has $cache.mountPath (list "/tmp" "/dev/shm") -}}
{{- fail (printf "storage.modelCache.mountPath: %s is a volume of its own; choose another path" $cache.mountPath) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateEnvironment" -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- $managed := $facts.managedEnv -}}
{{- $seen := dict -}}
{{- range $i, $env := .Values.environmentVariables -}}
{{- $where := printf "environmentVariables[%d]" $i -}}
{{- if hasKey $managed $env.name -}}
{{- fail (printf "%s.name: %s is set by the chart; set %s instead" $where $env.name (get $managed $env.name)) -}}
{{- else if hasKey $seen $env.name -}}
{{- fail (printf "%s.name: %s is already set by environmentVariables[%d]" $where $env.name (get $seen $env.name)) -}}
{{- end -}}
{{- $_ := set $seen $env.name $i -}}
{{- $hasValue := not (kindIs "invalid" $env.value) -}}
{{- $hasRef := not (kindIs "invalid" $env.secretKeyRef) -}}
{{- if and $hasValue $hasRef -}}
{{- fail (printf "%s: set either value or secretKeyRef, not both" $where) -}}
{{- else if and $hasValue (regexMatch $facts.secretLikeEnv $env.name) -}}
{{- fail (printf "%s.value: %s looks like a credential; take it from a Secret with secretKeyRef, not a literal value" $where $env.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateSecurity" -}}
{{- $ctx := .Values.podSecurityContext -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- if eq (include "ml-inference-load.imageNeedsRoot" .) "true" -}}
{{- $version := include "ml-inference-load.tgiVersion" . -}}
{{- $image := printf "TGI %s" $version -}}
{{- if not $version }}{{ $image = printf "an image tag that is not a version ('%s')" .Values.inference.image.tag }}{{ end -}}
{{- $wayOut := printf "%s runs only as uid 0 (TGI >= %s keeps its Python under /root: TGI issue 3082); leave runAsNonRoot and runAsUser unset, or build images/tgi-nonroot/Dockerfile and set inference.image.runsAsNonRoot: true" $image $facts.rootOnlySince -}}
{{- if $ctx.runAsNonRoot -}}
{{- fail (printf "podSecurityContext.runAsNonRoot: must not be true: %s" $wayOut) -}}
{{- else if and (not (kindIs "invalid" $ctx.runAsUser)) (ne (int64 $ctx.runAsUser) 0) -}}
{{- fail (printf "podSecurityContext.runAsUser: must be 0: %s" $wayOut) -}}
{{- end -}}
{{- else if and $ctx.runAsNonRoot (not (kindIs "invalid" $ctx.runAsUser)) (eq (int64 $ctx.runAsUser) 0) -}}
{{- fail "podSecurityContext.runAsNonRoot: cannot be true with podSecurityContext.runAsUser 0; the kubelet would refuse to start the container" -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateScaling" -}}
{{- $auto := .Values.scaling.autoscaling -}}
{{- if $auto.enabled -}}
{{- if eq (int64 $auto.minReplicas) 0 -}}
{{- fail "scaling.autoscaling.minReplicas: 0 needs something that holds requests during a cold start (the KEDA HTTP add-on), which this chart does not render; use at least 1" -}}
{{- end -}}
{{- if gt (int64 $auto.minReplicas) (int64 $auto.maxReplicas) -}}
{{- fail (printf "scaling.autoscaling.minReplicas: must not exceed scaling.autoscaling.maxReplicas (%d > %d)" (int64 $auto.minReplicas) (int64 $auto.maxReplicas)) -}}
{{- end -}}
{{- if not .Values.monitoring.serviceMonitor.enabled -}}
{{- fail "scaling.autoscaling.enabled: needs monitoring.serviceMonitor.enabled: the scaler reads TGI's metrics from the Prometheus that scrapes it" -}}
{{- end -}}
{{- end -}}
{{- $cache := .Values.storage.modelCache -}}
{{- $maxPods := int64 (include "ml-inference-load.maxPods" .) -}}
{{- if and (gt $maxPods 1) $cache.enabled (ne $cache.accessMode "ReadWriteMany") -}}
{{- fail (printf "storage.modelCache.accessMode: %s is mounted by one %s at a time, and up to %d pods may land on different nodes: use ReadWriteMany (one download, shared), or turn storage.modelCache.enabled off (each pod downloads its own copy)" $cache.accessMode (ternary "pod" "node" (eq $cache.accessMode "ReadWriteOncePod")) $maxPods) -}}
{{- end -}}
{{- end -}}
