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

{{/* repository:tag, or repository@digest when image.digest is set (the digest is what runs; the tag is for people). */}}
{{- define "kmg.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
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
{{- if and (include "kmg.poolUsed" (dict "root" $root "name" $name)) (include "kmg.poolImpersonates" (dict "pool" $pool)) -}}{{- $any = true -}}{{- end -}}
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

{{/* True when a worker cluster is the cluster the chart runs in (no server, or the in-cluster Service). */}}
{{- define "kmg.inCluster" -}}
{{- if or (not .server) (eq .server "https://kubernetes.default.svc") (eq .server "https://kubernetes.default.svc:443") -}}true{{- end -}}
{{- end -}}

{{/* True when a pool impersonates on the cluster it runs in with its own service account: only such pools
     get a token mounted and the impersonation ClusterRole. (dict "pool" $pool) */}}
{{- define "kmg.poolImpersonatesInCluster" -}}
{{- $any := false -}}
{{- range .pool.clusters -}}
{{- if and (eq (default "bearer" .identity) "impersonation") (include "kmg.inCluster" .) (not .kubeconfig) (not .serviceAccountTokenFile) -}}{{- $any = true -}}{{- end -}}
{{- end -}}
{{- if $any -}}true{{- end -}}
{{- end -}}

{{/* The org clusters routed to a pool, as a YAML list of {org, cluster}: (dict "root" $ "name" $poolName) */}}
{{- define "kmg.poolOrgClusters" -}}
{{- $out := list -}}
{{- $name := .name -}}
{{- range .root.Values.orgs -}}
{{- $org := . -}}
{{- range .clusters -}}
{{- if eq .workerPool $name -}}{{- $out = append $out (dict "org" $org.name "cluster" .) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* One pool cluster's impersonation RBAC rules: (dict "root" $ "poolName" $name "cluster" $c). The Kubernetes
     names are the gateway's prefix + the allow-listed names (RBAC matches resourceNames exactly: a prefix
     alone cannot be expressed, so without a list the chart needs impersonation.unrestricted). */}}
{{- define "kmg.impersonationRules" -}}
{{- $c := .cluster -}}
{{- $imp := default dict $c.impersonation -}}
{{- $userPrefix := "oidc:" -}}
{{- $groupPrefix := "oidc:" -}}
{{- range (include "kmg.poolOrgClusters" (dict "root" .root "name" .poolName) | fromYamlArray) -}}
{{- if eq .cluster.name $c.name -}}
{{- $userPrefix = (hasKey .cluster "usernamePrefix" | ternary .cluster.usernamePrefix "oidc:") -}}
{{- $groupPrefix = (hasKey .cluster "groupPrefix" | ternary .cluster.groupPrefix "oidc:") -}}
{{- end -}}
{{- end -}}
{{- if $imp.unrestricted }}
- apiGroups: [""]
  resources: ["users", "groups"]
  verbs: ["impersonate"]
{{- else }}
{{- $users := list -}}
{{- range $imp.allowedUsers }}{{- $users = append $users (printf "%s%s" $userPrefix .) -}}{{- end -}}
{{- $groups := list -}}
{{- range $imp.allowedGroups }}{{- $groups = append $groups (printf "%s%s" $groupPrefix .) -}}{{- end }}
- apiGroups: [""]
  resources: ["users"]
  verbs: ["impersonate"]
  resourceNames: {{ toJson $users }}
{{- if $groups }}
- apiGroups: [""]
  resources: ["groups"]
  verbs: ["impersonate"]
  resourceNames: {{ toJson $groups }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod and container security contexts: restricted Pod Security by default, every key overridable
     (set runAsUser/runAsGroup/fsGroup to null for OpenShift's restricted-v2, which assigns its own uid). */}}
{{- define "kmg.podSecurityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.podSecurityContext) (default dict .override)) -}}
{{- end -}}

{{- define "kmg.containerSecurityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.containerSecurityContext) (default dict .override)) -}}
{{- end -}}

{{/* Annotations that roll the pods when the external Secret changes: (dict "root" $) */}}
{{- define "kmg.secretAnnotations" -}}
{{- $root := .root -}}
{{- if $root.Values.secrets.checksum }}
checksum/secret: {{ $root.Values.secrets.checksum | quote }}
{{- else if $root.Values.secrets.checksumFromCluster }}
{{- $secret := lookup "v1" "Secret" $root.Release.Namespace $root.Values.secrets.existingSecret }}
{{- if $secret }}
checksum/secret: {{ $secret.data | toJson | sha256sum }}
{{- end }}
{{- end }}
{{- if $root.Values.secrets.reloader }}
secret.reloader.stakater.com/reload: {{ $root.Values.secrets.existingSecret | quote }}
{{- end }}
{{- end -}}

{{/* HPA metrics: CPU, plus open streams per pod (kmg_live_streams through a custom-metrics adapter) when asked. */}}
{{- define "kmg.hpaMetrics" -}}
- type: Resource
  resource:
    name: cpu
    target:
      type: Utilization
      averageUtilization: {{ .targetCPUUtilizationPercentage }}
{{- if and .streams .streams.enabled }}
- type: Pods
  pods:
    metric:
      name: {{ default "kmg_live_streams" .streams.metricName }}
    target:
      type: AverageValue
      averageValue: {{ .streams.averageValue | quote }}
{{- end }}
{{- end -}}

{{/* A PodDisruptionBudget spec, or nothing when it would block drains (one replica): (dict "pdb" $pdb "replicas" $n) */}}
{{- define "kmg.pdbSpec" -}}
{{- $pdb := .pdb -}}
{{- if and $pdb.enabled (gt (int .replicas) 1) -}}
{{- if and (hasKey $pdb "minAvailable") (not (kindIs "invalid" $pdb.minAvailable)) (ne (toString $pdb.minAvailable) "") }}
minAvailable: {{ $pdb.minAvailable }}
{{- else }}
maxUnavailable: {{ (kindIs "invalid" $pdb.maxUnavailable) | ternary 1 $pdb.maxUnavailable }}
{{- end }}
{{- end -}}
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
{{- $inCluster := include "kmg.inCluster" . -}}
{{- $c := omit (deepCopy .) "impersonation" -}}
{{- if not $c.server -}}{{- $_ := set $c "server" "https://kubernetes.default.svc" -}}{{- end -}}
{{- if and $inCluster (not $c.caFile) (not $c.caData) -}}
{{- $_ := set $c "caFile" "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" -}}
{{- end -}}
{{- /* The pod's own token is only good on the cluster it runs in: a remote server needs its own credentials. */ -}}
{{- if and (eq (default "bearer" $c.identity) "impersonation") $inCluster (not $c.serviceAccountTokenFile) (not $c.kubeconfig) -}}
{{- $_ := set $c "serviceAccountTokenFile" "/var/run/secrets/kubernetes.io/serviceaccount/token" -}}
{{- end -}}
{{- $_ := set $c "identity" (default "bearer" $c.identity) -}}
{{- $clusters = append $clusters $c -}}
{{- end -}}
{{- $cfg := dict "host" "0.0.0.0" "port" (int $root.Values.workerService.port) "allowedHosts" $hosts "clusters" $clusters "logLevel" $root.Values.logLevel -}}
{{- if .pool.assertion -}}
{{- $_ := set $cfg "assertion" .pool.assertion -}}
{{- else if include "kmg.poolImpersonates" (dict "pool" .pool) -}}
{{- /* Default: trust this release's gateway — its assertion issuer, the audience its org clusters sign for
     (kmg.validate makes them agree), and its identity JWKS fetched in-cluster from the gateway Service. */ -}}
{{- $_ := set $cfg "assertion" (include "kmg.poolAssertion" (dict "root" $root "name" .name) | fromYaml) -}}
{{- end -}}
{{- if .pool.byteBudget -}}{{- $_ := set $cfg "byteBudget" .pool.byteBudget -}}{{- end -}}
{{- $_ := set $cfg "ops" (dict "shutdown" (default $root.Values.gateway.shutdown .pool.shutdown) "metrics" (dict "port" (int $root.Values.metrics.port))) -}}
{{- toYaml (mergeOverwrite $cfg (deepCopy (default dict .pool.config))) -}}
{{- end -}}

{{/* The issuer of the gateway's identity assertions. */}}
{{- define "kmg.assertionIssuer" -}}
{{- $ia := default dict (default dict .Values.gateway.config).identityAssertion -}}
{{- default (trimSuffix "/" .Values.publicUrl) $ia.issuer -}}
{{- end -}}

{{/* The assertion settings a pool's workers need to trust this release's gateway: (dict "root" $ "name" $pool) */}}
{{- define "kmg.poolAssertion" -}}
{{- $root := .root -}}
{{- $audience := "" -}}
{{- $org := "" -}}
{{- range (include "kmg.poolOrgClusters" (dict "root" $root "name" .name) | fromYamlArray) -}}
{{- if and (eq (default "bearer" .cluster.identity) "impersonation") (not $org) -}}
{{- $org = .org -}}
{{- $audience = default "kubernetes" .cluster.audience -}}
{{- end -}}
{{- end -}}
{{- $jwks := printf "http://%s.%s.svc:%d/orgs/%s/mcp/identity/jwks.json" (include "kmg.gateway.fullname" $root) $root.Release.Namespace (int $root.Values.gateway.service.port) $org -}}
{{- toYaml (dict "issuer" (include "kmg.assertionIssuer" $root) "audience" $audience "jwksUrl" $jwks) -}}
{{- end -}}

{{/* Contradictions the chart refuses to render, each of which would fail only at run time. */}}
{{- define "kmg.validate" -}}
{{- $root := . -}}
{{- $names := list -}}
{{- range .Values.orgs -}}
{{- $names = append $names .name -}}
{{- if and (ne (default "gateway" .mode) "resource-server") (not .keycloak) -}}
{{- fail (printf "orgs[%s].keycloak is required unless mode is resource-server" .name) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.singleOrg (not (has .Values.singleOrg $names)) -}}
{{- fail (printf "singleOrg %q is not one of orgs[].name (%s)" .Values.singleOrg (join ", " $names)) -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled .Values.networkPolicy.enabled (not .Values.networkPolicy.metricsFrom) -}}
{{- fail "metrics.serviceMonitor.enabled while networkPolicy.enabled admits no scraper: set networkPolicy.metricsFrom to Prometheus's pods/namespace (e.g. [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}])" -}}
{{- end -}}
{{- range $name, $pool := .Values.workerPools -}}
{{- if include "kmg.poolUsed" (dict "root" $root "name" $name) -}}
{{- $poolClusters := dict -}}
{{- range $pool.clusters -}}{{- $_ := set $poolClusters .name . -}}{{- end -}}
{{- $audiences := dict -}}
{{- $prefixes := dict -}}
{{- range (include "kmg.poolOrgClusters" (dict "root" $root "name" $name) | fromYamlArray) -}}
{{- $oc := .cluster -}}
{{- $pc := get $poolClusters $oc.name -}}
{{- if not $pc -}}
{{- fail (printf "orgs[%s].clusters[%s] uses workerPool %q, which has no cluster named %q (the worker serves a request only on the cluster the gateway names)" .org $oc.name $name $oc.name) -}}
{{- end -}}
{{- if ne (default "bearer" $oc.identity) (default "bearer" $pc.identity) -}}
{{- fail (printf "orgs[%s].clusters[%s].identity is %s but workerPools.%s cluster %s is %s" .org $oc.name (default "bearer" $oc.identity) $name $oc.name (default "bearer" $pc.identity)) -}}
{{- end -}}
{{- if eq (default "bearer" $oc.identity) "impersonation" -}}
{{- $_ := set $audiences (default "kubernetes" $oc.audience) .org -}}
{{- $p := printf "%s|%s" (hasKey $oc "usernamePrefix" | ternary $oc.usernamePrefix "oidc:") (hasKey $oc "groupPrefix" | ternary $oc.groupPrefix "oidc:") -}}
{{- $seen := get $prefixes $oc.name -}}
{{- if and $seen (ne $seen $p) -}}
{{- fail (printf "orgs sharing workerPools.%s cluster %s use different usernamePrefix/groupPrefix: the worker's impersonation rights cannot match both" $name $oc.name) -}}
{{- end -}}
{{- $_ := set $prefixes $oc.name $p -}}
{{- end -}}
{{- end -}}
{{- if gt (len $audiences) 1 -}}
{{- fail (printf "orgs sharing workerPools.%s sign identity assertions for different audiences (%s): its workers accept one; give each audience its own pool" $name (join ", " (keys $audiences | sortAlpha))) -}}
{{- end -}}
{{- if and $pool.assertion (gt (len $audiences) 0) -}}
{{- $want := keys $audiences | first -}}
{{- if and $pool.assertion.audience (ne $pool.assertion.audience $want) -}}
{{- fail (printf "workerPools.%s.assertion.audience %q differs from the audience the gateway signs for (%q, the org cluster's audience): every impersonated call would fail" $name $pool.assertion.audience $want) -}}
{{- end -}}
{{- if and $pool.assertion.issuer (ne (trimSuffix "/" $pool.assertion.issuer) (include "kmg.assertionIssuer" $root)) -}}
{{- fail (printf "workerPools.%s.assertion.issuer %q differs from the gateway's assertion issuer %q" $name $pool.assertion.issuer (include "kmg.assertionIssuer" $root)) -}}
{{- end -}}
{{- end -}}
{{- range $pool.clusters -}}
{{- if eq (default "bearer" .identity) "impersonation" -}}
{{- $imp := default dict .impersonation -}}
{{- if and (not (include "kmg.inCluster" .)) (not .serviceAccountTokenFile) (not .kubeconfig) -}}
{{- fail (printf "workerPools.%s cluster %s impersonates on the remote server %s: set serviceAccountTokenFile or kubeconfig to that cluster's own credentials (this pod's token is only valid where it runs)" $name .name .server) -}}
{{- end -}}
{{- if and (include "kmg.inCluster" .) (not .serviceAccountTokenFile) (not .kubeconfig) (not $imp.unrestricted) (not $imp.allowedUsers) -}}
{{- fail (printf "workerPools.%s cluster %s impersonates with this pod's service account: list impersonation.allowedUsers (and allowedGroups) it may impersonate, or set impersonation.unrestricted: true to let it impersonate any user and group (RBAC cannot bound a prefix)" $name .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* One egress rule to `to` (NetworkPolicy peers; empty: anywhere) on TCP (and UDP) `ports`: (dict "to" … "ports" … "udp" bool) */}}
{{- define "kmg.egressRule" -}}
- {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- if $.udp }}
    - port: {{ . }}
      protocol: UDP
    {{- end }}
    {{- end }}
{{- end -}}
