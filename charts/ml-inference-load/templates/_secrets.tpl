{{/* Credentials: where the pods read them from, and how the ExternalSecrets find them in Vault. */}}

{{/*
The API key from the Secret the ExternalSecret writes, or from an existing Secret; nothing without a key.
Called with (list $ "ENV_NAME"): the engine's variable in its container, the script's in the test pod.
*/}}
{{- define "ml-inference-load.apiKeyEnv" -}}
{{- $root := index . 0 -}}
{{- $key := (include "ml-inference-load.facts" $root | fromJson).chart.apiKeySecretKey -}}
{{- if $root.Values.apiKey.vaultPath }}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "ml-inference-load.apiKeySecretName" $root | quote }}
      key: {{ $key | quote }}
{{- else if $root.Values.apiKey.existingSecret }}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.apiKey.existingSecret | quote }}
      key: {{ $root.Values.apiKey.existingSecretKey | quote }}
{{- end }}
{{- end -}}

{{/*
A Vault path as External Secrets Operator needs it: a path inside the store's mount. A leading "/"
would make ESO read secret/data//secret/..., so leading slashes are removed (docs/decisions.md section 2).
Called with the path string.
*/}}
{{- define "ml-inference-load.vaultKey" -}}
{{- regexReplaceAll "^/+" . "" -}}
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
