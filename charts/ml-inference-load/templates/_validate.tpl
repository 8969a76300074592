{{/*
Cross-field rules. values.schema.json checks each field alone; these check fields against each other,
with the same messages and in the same order as the Python model (workload.models.ml_inference_load),
so plain `helm template` and `workload validate` give one answer. Helm stops at the first failure.
*/}}
{{- define "ml-inference-load.validate" -}}
{{- $v := .Values -}}
{{- $inputTokens := int64 $v.inference.maxInputLength -}}
{{- $totalTokens := int64 $v.inference.maxTotalTokens -}}
{{- if ge $inputTokens $totalTokens -}}
{{- fail (printf "inference.maxInputLength: must be less than inference.maxTotalTokens (%d >= %d)" $inputTokens $totalTokens) -}}
{{- end -}}
{{- if and $v.ingress.enabled (not $v.ingress.host) -}}
{{- fail "ingress.host: required when ingress.enabled is true" -}}
{{- end -}}
{{- if and $v.vault.hfTokenPath $v.hfToken.existingSecret -}}
{{- fail "hfToken.existingSecret: cannot be combined with vault.hfTokenPath; choose one source for the token" -}}
{{- end -}}
{{- $req := $v.resources.requests -}}
{{- $lim := $v.resources.limits -}}
{{- if gt (float64 (include "ml-inference-load.cpuMillicores" $req.cpu)) (float64 (include "ml-inference-load.cpuMillicores" $lim.cpu)) -}}
{{- fail (printf "resources.requests.cpu: must not exceed resources.limits.cpu (%s > %s)" $req.cpu $lim.cpu) -}}
{{- end -}}
{{- if gt (float64 (include "ml-inference-load.memoryBytes" $req.memory)) (float64 (include "ml-inference-load.memoryBytes" $lim.memory)) -}}
{{- fail (printf "resources.requests.memory: must not exceed resources.limits.memory (%s > %s)" $req.memory $lim.memory) -}}
{{- end -}}
{{- $managed := dict
  "MODEL_ID" "model.id"
  "REVISION" "model.revision"
  "MAX_INPUT_TOKENS" "inference.maxInputLength"
  "MAX_INPUT_LENGTH" "inference.maxInputLength"
  "MAX_TOTAL_TOKENS" "inference.maxTotalTokens"
  "PORT" "inference.port"
  "HOSTNAME" "nothing (the chart binds TGI to 0.0.0.0)"
  "HF_HOME" "nothing (the chart points it at the model cache volume)"
  "NUM_SHARD" "gpu.count"
  "HF_TOKEN" "vault.hfTokenPath or hfToken.existingSecret"
  "HUGGING_FACE_HUB_TOKEN" "vault.hfTokenPath or hfToken.existingSecret"
-}}
{{- $seen := dict -}}
{{- range $i, $env := $v.environmentVariables -}}
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
{{- else if and $hasValue (regexMatch "(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)$" $env.name) -}}
{{- fail (printf "%s.value: %s looks like a credential; take it from a Secret with secretKeyRef, not a literal value" $where $env.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
