{{/* Images: the engine's image reference and the version it holds. */}}

{{/*
The engine version of the image: inference.image.version, else the X.Y.Z the tag starts with, else empty
(a digest or 'latest' says nothing about what the image contains). Same rule as engines/versions.py.
*/}}
{{- define "ml-inference-load.engineVersion" -}}
{{- $image := .Values.inference.image -}}
{{- regexFind "^v?[0-9]+\\.[0-9]+\\.[0-9]+" ($image.version | default $image.tag) | trimPrefix "v" -}}
{{- end -}}

{{/* The engine version when known (for the version label), else the tag. */}}
{{- define "ml-inference-load.imageTag" -}}
{{- include "ml-inference-load.engineVersion" . | default .Values.inference.image.tag -}}
{{- end -}}

{{/* repository:tag, or repository@digest when a digest pins it; called with an image's values. */}}
{{- define "ml-inference-load.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/* Fails unless the image's engine is at least .need; called with (dict "root" $ "path" "..." "need" "x.y.z"). */}}
{{- define "ml-inference-load.needsVersion" -}}
{{- $have := include "ml-inference-load.engineVersion" .root -}}
{{- $messages := (include "ml-inference-load.engineFacts" .root | fromJson).messages -}}
{{- if not $have -}}
{{- fail (printf $messages.versionUnknown .path .need .root.Values.inference.image.tag) -}}
{{- else if not (semverCompare (printf ">=%s" .need) $have) -}}
{{- fail (printf $messages.versionTooOld .path .need $have) -}}
{{- end -}}
{{- end -}}
