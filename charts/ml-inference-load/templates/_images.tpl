{{/* Images: the engine's image reference and the version it holds. */}}

{{/*
inference.image with the engine's own repository and tag where the values leave them empty, as JSON
(rules.py engine_image): one values file switches engines without naming an image.
*/}}
{{- define "ml-inference-load.engineImage" -}}
{{- $image := deepCopy .Values.inference.image -}}
{{- $own := (include "ml-inference-load.engineFacts" . | fromJson).image -}}
{{- $_ := set $image "repository" ($image.repository | default $own.repository) -}}
{{- $_ = set $image "tag" ($image.tag | default $own.tag) -}}
{{- toJson $image -}}
{{- end -}}

{{/*
The engine version of the image: inference.image.version, else the X.Y.Z the tag starts with, else empty
(a digest or 'latest' says nothing about what the image contains). Same rule as engines/versions.py.
*/}}
{{- define "ml-inference-load.engineVersion" -}}
{{- $image := include "ml-inference-load.engineImage" . | fromJson -}}
{{- regexFind "^v?[0-9]+\\.[0-9]+\\.[0-9]+" ($image.version | default $image.tag) | trimPrefix "v" -}}
{{- end -}}

{{/* The engine version when known (for the version label), else the tag. */}}
{{- define "ml-inference-load.imageTag" -}}
{{- include "ml-inference-load.engineVersion" . | default (include "ml-inference-load.engineImage" . | fromJson).tag -}}
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
{{- fail (printf $messages.versionUnknown .path .need (include "ml-inference-load.engineImage" .root | fromJson).tag) -}}
{{- else if not (semverCompare (printf ">=%s" .need) $have) -}}
{{- fail (printf $messages.versionTooOld .path .need $have) -}}
{{- end -}}
{{- end -}}
