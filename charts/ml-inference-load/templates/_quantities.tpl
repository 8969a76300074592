{{/* Quantities as numbers, to compare them: durations in ms, whole millicores and bytes (rounded half up). */}}
{{- define "ml-inference-load.durationMs" -}}
{{- $number := regexFind "^[0-9]+" . -}}
{{- $unit := trimPrefix $number . -}}
{{- mul (int64 (float64 $number)) (get (dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000) $unit) -}}
{{- end -}}

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
