#!/bin/bash
# One-shot, run with the Keycloak image (it has keytool): a development TLS certificate for
# Keycloak, and the kube-apiserver's AuthenticationConfiguration trusting it (the certificate is
# inlined, as the API requires). Kept when present.
set -euo pipefail
dir="${1:-/secrets}"
host="${KEYCLOAK_HOSTNAME:-keycloak.localhost}"
issuer="${KEYCLOAK_ISSUER:-https://${host}:8443/realms/mcp}"
store="$dir/keycloak-tls.p12"
pass="${KMG_KEYCLOAK_TLS_STORE_PASSWORD:-kmg-dev-keystore}"
keytool="$(command -v keytool || true)"
if [ -z "$keytool" ]; then for k in /usr/lib/jvm/*/bin/keytool; do keytool="$k"; done; fi

if [ ! -s "$store" ]; then
  "$keytool" -genkeypair -alias keycloak -keyalg EC -groupname secp256r1 -validity 825 \
    -dname "CN=$host" -ext "san=dns:$host,dns:keycloak,dns:localhost,ip:127.0.0.1" -ext eku=serverAuth \
    -keystore "$store" -storetype PKCS12 -storepass "$pass" -keypass "$pass"
  # keytool ends base64 lines with CRLF; rewrite the PEM with plain newlines.
  "$keytool" -exportcert -rfc -alias keycloak -keystore "$store" -storepass "$pass" \
    | while IFS= read -r line; do printf '%s\n' "${line%$'\r'}"; done > "$dir/keycloak-tls.crt"
  [ "$(id -u)" = 0 ] && chown 1000:1000 "$store" "$dir/keycloak-tls.crt"
  chmod 0400 "$store"
  chmod 0444 "$dir/keycloak-tls.crt"
fi

# Same claim mappings as the local stack: oidc:<preferred_username>, groups oidc:<group>, audience kubernetes.
{
  echo "apiVersion: apiserver.config.k8s.io/v1"
  echo "kind: AuthenticationConfiguration"
  echo "jwt:"
  echo "  - issuer:"
  echo "      url: $issuer"
  echo "      audiences: [kubernetes]"
  echo "      certificateAuthority: |"
  while IFS= read -r line; do echo "        $line"; done < "$dir/keycloak-tls.crt"
  echo "    claimMappings:"
  echo "      username: { claim: preferred_username, prefix: 'oidc:' }"
  echo "      groups: { claim: groups, prefix: 'oidc:' }"
} > "$dir/k3s-authentication.yaml.tmp"
mv "$dir/k3s-authentication.yaml.tmp" "$dir/k3s-authentication.yaml"
chmod 0444 "$dir/k3s-authentication.yaml"
echo "keycloak TLS and apiserver authentication config ready in $dir"
