{{/* The pod: its user, its scheduling, its sizes. */}}

{{/*
"true" when the pod must run as uid 0: a stock image the engine starts only as root from some version on
(TGI >= 3.1.1 keeps its Python under /root, mode 0700: TGI issue 3082); an image whose version is unknown is
taken as such, unless the values declare it built to run as non-root. Same rule as image_needs_root in rules.py.
*/}}
{{- define "ml-inference-load.imageNeedsRoot" -}}
{{- $since := (include "ml-inference-load.engineFacts" . | fromJson).image.rootOnlySince -}}
{{- if and $since (not .Values.inference.image.runsAsNonRoot) -}}
{{- $version := include "ml-inference-load.engineVersion" . -}}
{{- if or (not $version) (semverCompare (printf ">=%s" $since) $version) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The pod's user as a dict {nonRoot, uid, gid}: the values where set, else from the image (rules.py pod_user).
Called with the root context; use with fromYaml.
*/}}
{{- define "ml-inference-load.podUser" -}}
{{- $ctx := .Values.podSecurityContext -}}
{{- $nonRootUid := int64 (include "ml-inference-load.engineFacts" . | fromJson).image.nonRootUid -}}
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

{{/* /dev/shm size: inference.shmSize, or 1Gi per GPU. */}}
{{- define "ml-inference-load.shmSize" -}}
{{- .Values.inference.shmSize | default (printf "%dGi" (int64 .Values.gpu.count)) -}}
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
