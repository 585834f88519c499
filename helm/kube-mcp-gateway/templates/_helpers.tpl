{{/* Names and labels. */}}
{{- define "kmg.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kmg.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kmg.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kmg.labels" -}}
helm.sh/chart: {{ include "kmg.chart" . }}
app.kubernetes.io/name: {{ include "kmg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kmg.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kmg.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kmg.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "kmg.gateway.fullname" -}}
{{- printf "%s-gateway" (include "kmg.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Worker pool resource name: (dict "root" $ "pool" $poolName) */}}
{{- define "kmg.worker.fullname" -}}
{{- printf "%s-worker-%s" (include "kmg.fullname" .root) .pool | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Environment variable holding an org's Keycloak client secret. */}}
{{- define "kmg.orgSecretEnv" -}}
{{- printf "KMG_ORG_%s_CLIENT_SECRET" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* True when an org cluster names this worker pool: (dict "root" $ "name" $poolName). Unused pools are not rendered. */}}
{{- define "kmg.poolUsed" -}}
{{- $used := false -}}
{{- $name := .name -}}
{{- range .root.Values.orgs -}}
{{- range .clusters -}}
{{- if eq .workerPool $name -}}{{- $used = true -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- if $used -}}true{{- end -}}
{{- end -}}

{{/* True when some used worker pool has a cluster in impersonation mode. */}}
{{- define "kmg.anyImpersonation" -}}
{{- $any := false -}}
{{- $root := . -}}
{{- range $name, $pool := .Values.workerPools -}}
{{- if include "kmg.poolUsed" (dict "root" $root "name" $name) -}}
{{- range $pool.clusters -}}
{{- if eq (default "bearer" .identity) "impersonation" -}}{{- $any = true -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $any -}}true{{- end -}}
{{- end -}}

{{/* True when a pool has a cluster in impersonation mode: (dict "pool" $pool) */}}
{{- define "kmg.poolImpersonates" -}}
{{- $any := false -}}
{{- range .pool.clusters -}}
{{- if eq (default "bearer" .identity) "impersonation" -}}{{- $any = true -}}{{- end -}}
{{- end -}}
{{- if $any -}}true{{- end -}}
{{- end -}}

{{- define "kmg.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "kmg.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The gateway's config file, built from values (schema: gateway/src/config/schema.ts). */}}
{{- define "kmg.gateway.config" -}}
{{- $root := . -}}
{{- $orgs := list -}}
{{- range .Values.orgs -}}
{{- $org := . -}}
{{- $clusters := list -}}
{{- range $org.clusters -}}
{{- $c := omit . "workerPool" -}}
{{- $pool := required (printf "orgs[%s].clusters[%s].workerPool is required" $org.name .name) .workerPool -}}
{{- if not (hasKey $root.Values.workerPools $pool) -}}
{{- fail (printf "orgs[%s].clusters[%s].workerPool %q is not one of workerPools" $org.name .name $pool) -}}
{{- end -}}
{{- $url := printf "http://%s.%s.svc:%d" (include "kmg.worker.fullname" (dict "root" $root "pool" $pool)) $root.Release.Namespace (int $root.Values.workerService.port) -}}
{{- $_ := set $c "workers" (list $url) -}}
{{- $clusters = append $clusters $c -}}
{{- end -}}
{{- $o := dict "name" $org.name "clusters" $clusters -}}
{{- $_ := set $o "mode" (default "gateway" $org.mode) -}}
{{- if $org.keycloak -}}
{{- $kc := dict "issuer" $org.keycloak.issuer "clientId" (default "mcp-gateway" $org.keycloak.clientId) "clientSecret" (printf "${%s}" (include "kmg.orgSecretEnv" $org.name)) -}}
{{- if $org.keycloak.caConfigMap -}}{{- $_ := set $kc "caFile" (printf "/etc/kmg/ca/%s/ca.crt" $org.name) -}}{{- end -}}
{{- if (ne $o.mode "resource-server") -}}
{{- $_ := set $o "oauth" (merge (dict "keycloak" $kc) (deepCopy (default dict $org.oauth))) -}}
{{- end -}}
{{- $ex := dict "strategy" "keycloak-standard" "tokenEndpoint" (printf "%s/protocol/openid-connect/token" (trimSuffix "/" $org.keycloak.issuer)) "clientId" $kc.clientId "clientSecret" $kc.clientSecret -}}
{{- if $kc.caFile -}}{{- $_ := set $ex "caFile" $kc.caFile -}}{{- end -}}
{{- $_ := set $o "exchange" (merge (deepCopy (default dict $org.exchange)) $ex) -}}
{{- end -}}
{{- range $k := list "resourceServer" "policy" "rateLimits" "allowedOrigins" "sessionTtlSeconds" -}}
{{- if hasKey $org $k -}}{{- $_ := set $o $k (get $org $k) -}}{{- end -}}
{{- end -}}
{{- $orgs = append $orgs $o -}}
{{- end -}}
{{- $cfg := dict "publicUrl" (required "publicUrl is required (the URL clients use, e.g. https://mcp.example.com)" .Values.publicUrl) -}}
{{- $_ := set $cfg "listen" (dict "host" "0.0.0.0" "port" (int .Values.gateway.port)) -}}
{{- $_ := set $cfg "logLevel" .Values.logLevel -}}
{{- $_ := set $cfg "trustProxy" .Values.trustProxy -}}
{{- if .Values.singleOrg -}}{{- $_ := set $cfg "singleOrg" .Values.singleOrg -}}{{- end -}}
{{- $_ := set $cfg "orgs" $orgs -}}
{{- $redisUrl := .Values.redis.url -}}
{{- if .Values.redis.urlSecretKey -}}{{- $redisUrl = "${KMG_REDIS_URL}" -}}{{- end -}}
{{- $_ := set $cfg "storage" (dict "redis" (dict "url" (required "redis.url (or redis.urlSecretKey) is required: replicas share state in Redis" $redisUrl) "keyPrefix" .Values.redis.keyPrefix)) -}}
{{- $_ := set $cfg "encryptionKeys" (list (dict "id" .Values.secrets.encryptionKeyId "key" "${KMG_ENCRYPTION_KEY}")) -}}
{{- if include "kmg.anyImpersonation" . -}}
{{- $_ := set $cfg "identityAssertion" (dict "signingKeyFile" "/etc/kmg/keys/identity-signing-key.pem") -}}
{{- end -}}
{{- $_ := set $cfg "audit" (dict "destination" .Values.gateway.audit.destination) -}}
{{- $_ := set $cfg "ops" (dict "shutdown" .Values.gateway.shutdown "metrics" (dict "port" (int .Values.metrics.port))) -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy (default dict .Values.gateway.config))) -}}
{{- end -}}

{{/* A worker pool's config file (schema: worker/src/config.ts): (dict "root" $ "name" $name "pool" $pool) */}}
{{- define "kmg.worker.config" -}}
{{- $root := .root -}}
{{- $svc := include "kmg.worker.fullname" (dict "root" $root "pool" .name) -}}
{{- $hosts := list -}}
{{- range $h := list $svc (printf "%s.%s" $svc $root.Release.Namespace) (printf "%s.%s.svc" $svc $root.Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc $root.Release.Namespace) -}}
{{- $hosts = append $hosts $h -}}
{{- $hosts = append $hosts (printf "%s:%d" $h (int $root.Values.workerService.port)) -}}
{{- end -}}
{{- $clusters := list -}}
{{- range .pool.clusters -}}
{{- $c := deepCopy . -}}
{{- if not $c.server -}}{{- $_ := set $c "server" "https://kubernetes.default.svc" -}}{{- end -}}
{{- if and (eq $c.server "https://kubernetes.default.svc") (not $c.caFile) (not $c.caData) -}}
{{- $_ := set $c "caFile" "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" -}}
{{- end -}}
{{- if and (eq (default "bearer" $c.identity) "impersonation") (not $c.serviceAccountTokenFile) -}}
{{- $_ := set $c "serviceAccountTokenFile" "/var/run/secrets/kubernetes.io/serviceaccount/token" -}}
{{- end -}}
{{- $_ := set $c "identity" (default "bearer" $c.identity) -}}
{{- $clusters = append $clusters $c -}}
{{- end -}}
{{- $cfg := dict "host" "0.0.0.0" "port" (int $root.Values.workerService.port) "allowedHosts" $hosts "clusters" $clusters "logLevel" $root.Values.logLevel -}}
{{- if .pool.assertion -}}
{{- $_ := set $cfg "assertion" .pool.assertion -}}
{{- else if include "kmg.poolImpersonates" (dict "pool" .pool) -}}
{{- /* Default: trust this release's gateway — its public URL as issuer, the org cluster's audience, and its
     identity JWKS fetched in-cluster from the gateway Service. */ -}}
{{- $poolName := .name -}}
{{- $ref := dict -}}
{{- range $root.Values.orgs -}}
{{- $org := . -}}
{{- range .clusters -}}
{{- if and (eq .workerPool $poolName) (not $ref.org) -}}
{{- $_ := set $ref "org" $org.name -}}
{{- $_ := set $ref "audience" (default "kubernetes" .audience) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $jwks := printf "http://%s.%s.svc:%d/orgs/%s/mcp/identity/jwks.json" (include "kmg.gateway.fullname" $root) $root.Release.Namespace (int $root.Values.gateway.service.port) $ref.org -}}
{{- $_ := set $cfg "assertion" (dict "issuer" (trimSuffix "/" $root.Values.publicUrl) "audience" $ref.audience "jwksUrl" $jwks) -}}
{{- end -}}
{{- if .pool.byteBudget -}}{{- $_ := set $cfg "byteBudget" .pool.byteBudget -}}{{- end -}}
{{- $_ := set $cfg "ops" (dict "shutdown" (default $root.Values.gateway.shutdown .pool.shutdown) "metrics" (dict "port" (int $root.Values.metrics.port))) -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy (default dict .pool.config))) -}}
{{- end -}}
