{{/*
Names. Every object is named after .Values.serviceName, as the design document specifies, so the Service,
Secret and route names are predictable for the people who call them.
*/}}

{{/*
The chart's name, fixed: tools select the workload's objects by app.kubernetes.io/name=ml-inference-load,
so it must not change when the chart is used as an aliased subchart (whose .Chart.Name is the alias).
*/}}
{{- define "ml-inference-load.name" -}}
{{- (include "ml-inference-load.facts" . | fromJson).chart.name -}}
{{- end -}}

{{- define "ml-inference-load.fullname" -}}
{{- .Values.serviceName -}}
{{- end -}}

{{- define "ml-inference-load.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "ml-inference-load.chart" -}}
{{- printf "%s-%s" (include "ml-inference-load.name" .) .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ml-inference-load.hfTokenSecretName" -}}
{{- printf "%s-hf-token" .Values.serviceName -}}
{{- end -}}

{{- define "ml-inference-load.apiKeySecretName" -}}
{{- printf "%s-api-key" .Values.serviceName -}}
{{- end -}}

{{- define "ml-inference-load.modelCacheClaimName" -}}
{{- .Values.storage.modelCache.existingClaim | default (printf "%s-model-cache" .Values.serviceName) -}}
{{- end -}}

{{/*
The chosen engine's facts (templates/_facts.tpl, ml-inference-load.facts.engine.<name>), as JSON: use with fromJson.
Its template partials are named ml-inference-load.engine.<name>.<what> (templates/_engine_<name>.tpl).
*/}}
{{- define "ml-inference-load.engineFacts" -}}
{{- include (printf "ml-inference-load.facts.engine.%s" .Values.inference.engine) . -}}
{{- end -}}

{{/* The chosen engine's partial called <what>, with the root context: include it with (list $ "what"). */}}
{{- define "ml-inference-load.enginePartial" -}}
{{- $root := index . 0 -}}
{{- include (printf "ml-inference-load.engine.%s.%s" $root.Values.inference.engine (index . 1)) $root -}}
{{- end -}}
