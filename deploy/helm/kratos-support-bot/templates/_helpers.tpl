{{/* Chart name, truncated to the 63 characters a label value may have. */}}
{{- define "kratos-support-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart> unless the release name already contains the chart name. */}}
{{- define "kratos-support-bot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of the bundled Redis' Deployment, Service and NetworkPolicy. */}}
{{- define "kratos-support-bot.redisName" -}}
{{- printf "%s-redis" (include "kratos-support-bot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kratos-support-bot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object; the component label is added per object. */}}
{{- define "kratos-support-bot.labels" -}}
helm.sh/chart: {{ include "kratos-support-bot.chart" . }}
app.kubernetes.io/name: {{ include "kratos-support-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector of the bot pods (the Redis pods differ in app.kubernetes.io/component). */}}
{{- define "kratos-support-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kratos-support-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: bot
{{- end }}

{{- define "kratos-support-bot.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "kratos-support-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "kratos-support-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kratos-support-bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the Slack credentials are read from: existingSecret or the chart's own. */}}
{{- define "kratos-support-bot.secretName" -}}
{{- .Values.slack.existingSecret | default (include "kratos-support-bot.fullname" .) }}
{{- end }}

{{- define "kratos-support-bot.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Fails on a mode other than socket or http; returns the mode. */}}
{{- define "kratos-support-bot.mode" -}}
{{- if not (has .Values.mode (list "socket" "http")) }}
{{- fail (printf "mode must be \"socket\" or \"http\", not %q" (toString .Values.mode)) }}
{{- end }}
{{- .Values.mode }}
{{- end }}

{{/* Name of the container port the probes use: health in Socket Mode; in HTTP mode ops when opsPort is set,
else http. */}}
{{- define "kratos-support-bot.probePort" -}}
{{- if eq (include "kratos-support-bot.mode" .) "http" }}{{ if include "kratos-support-bot.opsPort" . }}ops{{ else }}http{{ end }}{{ else }}health{{ end }}
{{- end }}

{{/* HTTP mode's separate operations port, or empty (Socket Mode, or opsPort 0). */}}
{{- define "kratos-support-bot.opsPort" -}}
{{- if and (eq (include "kratos-support-bot.mode" .) "http") (gt (int .Values.opsPort) 0) }}{{ int .Values.opsPort }}{{ end }}
{{- end }}

{{/* STATE_URL when it is not read from stateUrlSecret. */}}
{{- define "kratos-support-bot.stateUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:6379/0" (include "kratos-support-bot.redisName" .) }}
{{- else }}
{{- .Values.stateUrl }}
{{- end }}
{{- end }}
