{{/* Labels: the design's `app` label plus the standard name/instance pair select the pods. */}}
{{- define "ml-inference-load.selectorLabels" -}}
app: {{ .Values.serviceName | quote }}
app.kubernetes.io/name: {{ include "ml-inference-load.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{- define "ml-inference-load.labels" -}}
{{ include "ml-inference-load.selectorLabels" . }}
app.kubernetes.io/version: {{ include "ml-inference-load.imageTag" . | replace "+" "_" | trunc 63 | trimSuffix "-" | trimSuffix "." | quote }}
app.kubernetes.io/component: "inference"
app.kubernetes.io/part-of: {{ .Values.serviceCatalog | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ include "ml-inference-load.chart" . | quote }}
environment: {{ .Values.environment | quote }}
{{/* Backstage's Kubernetes plugin finds a component's objects by this label (its catalog name). */ -}}
backstage.io/kubernetes-id: {{ .Values.serviceName | quote }}
{{- end -}}

{{/*
Labels of the helm-test pod: the release's, but not the selector's `app` label, so the Service never
sends traffic to the test pod and the NetworkPolicy can admit it by component.
*/}}
{{- define "ml-inference-load.testLabels" -}}
app.kubernetes.io/name: {{ include "ml-inference-load.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: "helm-test"
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
helm.sh/chart: {{ include "ml-inference-load.chart" . | quote }}
backstage.io/kubernetes-id: {{ .Values.serviceName | quote }}
{{- end -}}

{{/*
The chart's labels merged with a map of extra ones (called with list $ $extra), as quoted YAML lines.
Keys the chart sets stay the chart's (and the values rules refuse them as extra keys).
*/}}
{{- define "ml-inference-load.labelsWith" -}}
{{- $labels := include "ml-inference-load.labels" (index . 0) | fromYaml -}}
{{- range $key, $value := index . 1 }}{{ if not (hasKey $labels $key) }}{{ $_ := set $labels $key $value }}{{ end }}{{ end -}}
{{- range $key, $value := $labels }}
{{ $key | quote }}: {{ $value | quote }}
{{- end }}
{{- end -}}
