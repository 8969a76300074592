{{/*
Cross-field rules. values.schema.json checks each field alone; these check fields against each other, in
the same order as the Python model (workload.models.ml_inference_load.rules, after the engine's own rules
in its partial), with the messages written once there and generated into _facts.tpl, so plain
`helm template` and `workload validate` give one answer. Helm stops at the first failure.
*/}}
{{- define "ml-inference-load.validate" -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- if not (has .Values.inference.engine $facts.engineNames) -}}
{{- fail (printf "inference.engine: must be one of %s" ($facts.engineNames | join ", ")) -}}
{{- end -}}
{{- include "ml-inference-load.validateEngineFields" . -}}
{{- include "ml-inference-load.enginePartial" (list . "validate") -}}
{{- include "ml-inference-load.validateDrain" . -}}
{{- include "ml-inference-load.validateExposure" . -}}
{{- include "ml-inference-load.validateCredentials" . -}}
{{- include "ml-inference-load.validateResources" . -}}
{{- include "ml-inference-load.validateEnvironment" . -}}
{{- include "ml-inference-load.validateSecurity" . -}}
{{- include "ml-inference-load.validateScaling" . -}}
{{- end -}}

{{- define "ml-inference-load.messages" -}}
{{- (include "ml-inference-load.facts" . | fromJson).messages | toJson -}}
{{- end -}}

{{/* A field another engine has, set with this one; a flag the chart sets, in extraArgs (rules.py _engine_fields). */}}
{{- define "ml-inference-load.validateEngineFields" -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- $engine := include "ml-inference-load.engineFacts" . | fromJson -}}
{{- range $path, $owners := $facts.engineSpecificFields -}}
{{- if not (has $path $engine.fields) -}}
{{- $value := $.Values -}}
{{- range $part := splitList "." $path }}{{ $value = index $value $part }}{{ end -}}
{{- if not (kindIs "invalid" $value) -}}
{{- fail (printf $facts.messages.notThisEngine $path $owners $engine.title) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $path, $pair := dict "model.quantization" (list .Values.model.quantization $engine.quantizations) "model.dtype" (list .Values.model.dtype $engine.dtypes) -}}
{{- $value := index $pair 0 -}}
{{- if and (not (kindIs "invalid" $value)) (not (has $value (index $pair 1))) -}}
{{- fail (printf $facts.messages.notEngineChoice $path $engine.title $value (index $pair 1 | join ", ")) -}}
{{- end -}}
{{- end -}}
{{- range $i, $arg := .Values.inference.extraArgs -}}
{{- $flag := "" -}}
{{- if hasPrefix "-" $arg -}}
{{- $flag = splitList "=" $arg | first -}}
{{- if hasPrefix "--" $flag }}{{ $flag = printf "--%s" ($flag | trimPrefix "--" | replace "_" "-") }}{{ end -}}
{{- end -}}
{{- if and $flag (hasKey $engine.managedFlags $flag) -}}
{{- fail (printf $facts.messages.managedFlag $i $flag (get $engine.managedFlags $flag)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateDrain" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- $engine := include "ml-inference-load.engineFacts" . | fromJson -}}
{{- $drain := int64 (include "ml-inference-load.enginePartial" (list . "drainSeconds")) -}}
{{- $grace := int64 .Values.inference.terminationGracePeriodSeconds -}}
{{- $pause := int64 .Values.scaling.preStopSeconds -}}
{{- if le $grace (add $pause $drain | int64) -}}
{{- fail (printf $m.gracePeriod $engine.title $drain $grace $pause $drain) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateExposure" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- $ingress := .Values.ingress -}}
{{- if and $ingress.enabled (not $ingress.host) -}}
{{- fail $m.hostRequired -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $i, $path := $ingress.paths -}}
{{- if eq $path "/metrics" -}}
{{- fail (printf $m.metricsPath $i) -}}
{{- else if hasKey $seen $path -}}
{{- fail (printf $m.pathTwice $i $path) -}}
{{- end -}}
{{- $_ := set $seen $path true -}}
{{- end -}}
{{- $monitor := .Values.monitoring.serviceMonitor -}}
{{- $chartLabels := include "ml-inference-load.labels" . | fromYaml -}}
{{- range $path, $labels := dict "monitoring.serviceMonitor.labels" $monitor.labels "monitoring.grafanaDashboard.labels" .Values.monitoring.grafanaDashboard.labels -}}
{{- range $key := keys $labels | sortAlpha -}}
{{- if hasKey $chartLabels $key -}}
{{- fail (printf $m.chartLabel $path $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (int64 (include "ml-inference-load.durationMs" $monitor.scrapeTimeout)) (int64 (include "ml-inference-load.durationMs" $monitor.interval)) -}}
{{- fail (printf $m.scrapeTimeout $monitor.scrapeTimeout $monitor.interval) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateCredentials" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- if and .Values.vault.hfTokenPath .Values.hfToken.existingSecret -}}
{{- fail $m.hfTokenTwice -}}
{{- end -}}
{{- if and .Values.apiKey.vaultPath .Values.apiKey.existingSecret -}}
{{- fail $m.apiKeyTwice -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateResources" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- $req := .Values.resources.requests -}}
{{- $lim := .Values.resources.limits -}}
{{- if gt (float64 (include "ml-inference-load.cpuMillicores" $req.cpu)) (float64 (include "ml-inference-load.cpuMillicores" $lim.cpu)) -}}
{{- fail (printf $m.cpuRequest $req.cpu $lim.cpu) -}}
{{- end -}}
{{- $limitBytes := float64 (include "ml-inference-load.memoryBytes" $lim.memory) -}}
{{- if gt (float64 (include "ml-inference-load.memoryBytes" $req.memory)) $limitBytes -}}
{{- fail (printf $m.memoryRequest $req.memory $lim.memory) -}}
{{- end -}}
{{- $shm := include "ml-inference-load.shmSize" . -}}
{{- if gt (float64 (include "ml-inference-load.memoryBytes" $shm)) $limitBytes -}}
{{- fail (printf $m.shmSize $shm $lim.memory) -}}
{{- end -}}
{{- $cache := .Values.storage.modelCache -}}
{{- if and $cache.offline (not $cache.enabled) -}}
{{- fail (printf $m.offlineWithoutCache (include "ml-inference-load.engineFacts" . | fromJson).title) -}}
{{- end -}}
{{- if has $cache.mountPath (list "/tmp" "/dev/shm") -}}
{{- fail (printf $m.cacheMountPath $cache.mountPath) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateEnvironment" -}}
{{- $facts := include "ml-inference-load.facts" . | fromJson -}}
{{- $m := $facts.messages -}}
{{- $managed := merge (dict) $facts.chartEnv (include "ml-inference-load.engineFacts" . | fromJson).managedEnv -}}
{{- $seen := dict -}}
{{- range $i, $env := .Values.environmentVariables -}}
{{- if hasKey $managed $env.name -}}
{{- fail (printf $m.managedEnv $i $env.name (get $managed $env.name)) -}}
{{- else if hasKey $seen $env.name -}}
{{- fail (printf $m.envTwice $i $env.name (get $seen $env.name)) -}}
{{- end -}}
{{- $_ := set $seen $env.name $i -}}
{{- $hasValue := not (kindIs "invalid" $env.value) -}}
{{- $hasRef := not (kindIs "invalid" $env.secretKeyRef) -}}
{{- if and $hasValue $hasRef -}}
{{- fail (printf $m.envValueAndRef $i) -}}
{{- else if and $hasValue (regexMatch $facts.secretLikeEnv $env.name) -}}
{{- fail (printf $m.envCredential $i $env.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateSecurity" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- $ctx := .Values.podSecurityContext -}}
{{- if eq (include "ml-inference-load.imageNeedsRoot" .) "true" -}}
{{- $engine := include "ml-inference-load.engineFacts" . | fromJson -}}
{{- $version := include "ml-inference-load.engineVersion" . -}}
{{- $image := printf $m.imageVersion $engine.title $version -}}
{{- if not $version }}{{ $image = printf $m.imageUnversioned (include "ml-inference-load.engineImage" . | fromJson).tag }}{{ end -}}
{{- $wayOut := printf $m.rootOnly $image $engine.image.rootReason $engine.image.nonRootRecipe -}}
{{- if $ctx.runAsNonRoot -}}
{{- fail (printf $m.rootOnlyNonRoot $wayOut) -}}
{{- else if and (not (kindIs "invalid" $ctx.runAsUser)) (ne (int64 $ctx.runAsUser) 0) -}}
{{- fail (printf $m.rootOnlyUid $wayOut) -}}
{{- end -}}
{{- else if and $ctx.runAsNonRoot (not (kindIs "invalid" $ctx.runAsUser)) (eq (int64 $ctx.runAsUser) 0) -}}
{{- fail $m.nonRootUid0 -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.validateScaling" -}}
{{- $m := include "ml-inference-load.messages" . | fromJson -}}
{{- $auto := .Values.scaling.autoscaling -}}
{{- if $auto.enabled -}}
{{- if eq (int64 $auto.minReplicas) 0 -}}
{{- fail $m.minReplicasZero -}}
{{- end -}}
{{- if gt (int64 $auto.minReplicas) (int64 $auto.maxReplicas) -}}
{{- fail (printf $m.minAboveMax (int64 $auto.minReplicas) (int64 $auto.maxReplicas)) -}}
{{- end -}}
{{- if not .Values.monitoring.serviceMonitor.enabled -}}
{{- fail (printf $m.autoscalingNeedsMonitor (include "ml-inference-load.engineFacts" . | fromJson).title) -}}
{{- end -}}
{{- end -}}
{{- $cache := .Values.storage.modelCache -}}
{{- $maxPods := int64 (include "ml-inference-load.maxPods" .) -}}
{{- if and (gt $maxPods 1) $cache.enabled (ne $cache.accessMode "ReadWriteMany") -}}
{{- fail (printf $m.sharedCache $cache.accessMode (ternary "pod" "node" (eq $cache.accessMode "ReadWriteOncePod")) $maxPods) -}}
{{- end -}}
{{- end -}}
