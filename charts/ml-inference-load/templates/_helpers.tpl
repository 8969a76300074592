{{/*
Names and labels. Every object is named after .Values.serviceName, as the design document specifies,
so the Service, Secret and route names are predictable for the people who call them.
*/}}

{{/*
The chart's name, fixed: tools select the workload's objects by app.kubernetes.io/name=ml-inference-load,
so it must not change when the chart is used as an aliased subchart (whose .Chart.Name is the alias).
*/}}
{{- define "ml-inference-load.name" -}}
ml-inference-load
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

{{/* The design's `app` label plus the standard name/instance pair; used by the Service selector. */}}
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

{{/* The TGI version when known (for the version label), else the tag. */}}
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

{{- define "ml-inference-load.imageTag" -}}
{{- include "ml-inference-load.tgiVersion" . | default .Values.inference.image.tag -}}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest pins it; called with an image's values. */}}
{{- define "ml-inference-load.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/* API_KEY from the Secret the ExternalSecret writes, or from an existing Secret; nothing without a key. */}}
{{- define "ml-inference-load.apiKeyEnv" -}}
{{- if .Values.apiKey.vaultPath }}
- name: API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "ml-inference-load.apiKeySecretName" . | quote }}
      key: "api-key"
{{- else if .Values.apiKey.existingSecret }}
- name: API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiKey.existingSecret | quote }}
      key: {{ .Values.apiKey.existingSecretKey | quote }}
{{- end }}
{{- end -}}

{{- define "ml-inference-load.hfTokenSecretName" -}}
{{- printf "%s-hf-token" .Values.serviceName -}}
{{- end -}}

{{/*
A Vault path as External Secrets Operator needs it: a path inside the store's mount. A leading "/"
would make ESO read secret/data//secret/..., so leading slashes are removed (docs/decisions.md section 2).
Called with the path string.
*/}}
{{- define "ml-inference-load.vaultKey" -}}
{{- regexReplaceAll "^/+" . "" -}}
{{- end -}}

{{- define "ml-inference-load.apiKeySecretName" -}}
{{- printf "%s-api-key" .Values.serviceName -}}
{{- end -}}

{{- define "ml-inference-load.modelCacheClaimName" -}}
{{- .Values.storage.modelCache.existingClaim | default (printf "%s-model-cache" .Values.serviceName) -}}
{{- end -}}

{{/* /dev/shm size: inference.shmSize, or 1Gi per GPU. */}}
{{- define "ml-inference-load.shmSize" -}}
{{- .Values.inference.shmSize | default (printf "%dGi" (int64 .Values.gpu.count)) -}}
{{- end -}}

{{/*
TGI version of the image: inference.image.version, else the X.Y.Z the tag starts with, else empty
(a digest or 'latest' says nothing about what the image contains).
*/}}
{{- define "ml-inference-load.tgiVersion" -}}
{{- $image := .Values.inference.image -}}
{{- regexFind "^v?[0-9]+\\.[0-9]+\\.[0-9]+" ($image.version | default $image.tag) | trimPrefix "v" -}}
{{- end -}}

{{/*
"true" when the pod must run as uid 0: a stock TGI image from 3.1.1 on keeps its Python under /root (mode
0700) and starts only as root (TGI issue 3082); an image whose version is unknown is taken as such,
unless the values declare it built to run as non-root. Same rule as image_needs_root in rules.py.
*/}}
{{- define "ml-inference-load.imageNeedsRoot" -}}
{{- if not .Values.inference.image.runsAsNonRoot -}}
{{- $version := include "ml-inference-load.tgiVersion" . -}}
{{- $since := (include "ml-inference-load.facts" . | fromJson).rootOnlySince -}}
{{- if or (not $version) (semverCompare (printf ">=%s" $since) $version) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The pod's user as a dict {nonRoot, uid, gid}: the values where set, else from the image (rules.py pod_user).
Called with the root context; use with fromYaml.
*/}}
{{- define "ml-inference-load.podUser" -}}
{{- $ctx := .Values.podSecurityContext -}}
{{- $nonRootUid := int64 (include "ml-inference-load.facts" . | fromJson).nonRootUid -}}
{{- $uid := ternary 0 $nonRootUid (eq (include "ml-inference-load.imageNeedsRoot" .) "true") -}}
{{- if not (kindIs "invalid" $ctx.runAsUser) }}{{ $uid = int64 $ctx.runAsUser }}{{ end -}}
{{- $nonRoot := ne (int64 $uid) 0 -}}
{{- if not (kindIs "invalid" $ctx.runAsNonRoot) }}{{ $nonRoot = $ctx.runAsNonRoot }}{{ end -}}
{{- $gid := ternary 0 $nonRootUid (eq (int64 $uid) 0) -}}
{{- if not (kindIs "invalid" $ctx.runAsGroup) }}{{ $gid = int64 $ctx.runAsGroup }}{{ end -}}
nonRoot: {{ $nonRoot }}
uid: {{ int64 $uid }}
gid: {{ int64 $gid }}
{{- end -}}

{{/* Fails unless the image's TGI is at least .need; called with (dict "root" $ "path" "..." "need" "x.y.z"). */}}
{{- define "ml-inference-load.needsTgi" -}}
{{- $have := include "ml-inference-load.tgiVersion" .root -}}
{{- if not $have -}}
{{- fail (printf "%s: needs TGI >= %s; the image tag '%s' is not a version, so set inference.image.version" .path .need .root.Values.inference.image.tag) -}}
{{- else if not (semverCompare (printf ">=%s" .need) $have) -}}
{{- fail (printf "%s: needs TGI >= %s (the image is TGI %s)" .path .need $have) -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.durationMs" -}}
{{- $number := regexFind "^[0-9]+" . -}}
{{- $unit := trimPrefix $number . -}}
{{- mul (int64 (float64 $number)) (get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit) -}}
{{- end -}}

{{/*
external-secrets.io/v1 (ESO >= 0.16); v1beta1 only when the cluster serves it and not v1 (ESO < 0.16).
An offline `helm template` knows no cluster APIs and gets v1, which every current ESO serves.
*/}}
{{- define "ml-inference-load.externalSecretApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "external-secrets.io/v1/ExternalSecret" -}}
external-secrets.io/v1
{{- else if .Capabilities.APIVersions.Has "external-secrets.io/v1beta1/ExternalSecret" -}}
external-secrets.io/v1beta1
{{- else -}}
external-secrets.io/v1
{{- end -}}
{{- end -}}

{{/* Quantities as numbers, to compare requests with limits: whole millicores and bytes (rounded half up). */}}
{{- define "ml-inference-load.cpuMillicores" -}}
{{- if hasSuffix "m" . -}}
{{- float64 (trimSuffix "m" .) -}}
{{- else -}}
{{- round (mulf (float64 .) 1000) 0 -}}
{{- end -}}
{{- end -}}

{{- define "ml-inference-load.memoryBytes" -}}
{{- $number := regexFind "^[0-9.]+" . -}}
{{- $suffix := trimPrefix $number . -}}
{{- $multipliers := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "P" 1000000000000000 "E" 1000000000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "Ei" 1152921504606846976 -}}
{{- round (mulf (float64 $number) (get $multipliers $suffix)) 0 -}}
{{- end -}}

{{/* gpu.tolerations as a YAML list: the workload's pod and the helm-test pod tolerate the same taints. */}}
{{- define "ml-inference-load.tolerations" -}}
{{- range .Values.gpu.tolerations }}
- key: {{ .key | quote }}
  operator: {{ .operator | default "Exists" | quote }}
  {{- if and (eq (.operator | default "Exists") "Equal") .value }}
  value: {{ .value | toJson }}
  {{- end }}
  {{- with .effect }}
  effect: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The most pods there can be: maxReplicas with autoscaling, else replicas (scaling.Scaling.max_pods). */}}
{{- define "ml-inference-load.maxPods" -}}
{{- $s := .Values.scaling -}}
{{- if $s.autoscaling.enabled }}{{ int64 $s.autoscaling.maxReplicas }}{{ else }}{{ int64 $s.replicas }}{{ end -}}
{{- end -}}
