#!/bin/bash
# One-shot, run with the Keycloak image (it has keytool): a development TLS certificate for Keycloak
# (keystore into Keycloak's volume, certificate into the gateway's), and the kube-apiserver's
# AuthenticationConfiguration trusting it (the certificate inlined, as the API requires) into the
# apiserver's volume. Kept when present.
set -euo pipefail
out="${1:-/out}"
host="${KEYCLOAK_HOSTNAME:-keycloak.localhost}"
issuer="${KEYCLOAK_ISSUER:-https://${host}:8443/realms/mcp}"
store="$out/keycloak/keycloak-tls.p12"
crt="$out/gateway/keycloak-tls.crt"
pass="${KMG_KEYCLOAK_TLS_STORE_PASSWORD:-kmg-dev-keystore}"
keytool="$(command -v keytool || true)"
if [ -z "$keytool" ]; then for k in /usr/lib/jvm/*/bin/keytool /opt/java/openjdk/bin/keytool; do [ -x "$k" ] && keytool="$k"; done; fi
mkdir -p "$out/keycloak" "$out/gateway" "$out/apiserver"

if [ ! -s "$store" ] || [ ! -s "$crt" ]; then
  rm -f "$store"
  "$keytool" -genkeypair -alias keycloak -keyalg EC -groupname secp256r1 -validity 825 \
    -dname "CN=$host" -ext "san=dns:$host,dns:keycloak,dns:localhost,ip:127.0.0.1" -ext eku=serverAuth \
    -keystore "$store" -storetype PKCS12 -storepass "$pass" -keypass "$pass"
  # keytool ends base64 lines with CRLF; rewrite the PEM with plain newlines.
  "$keytool" -exportcert -rfc -alias keycloak -keystore "$store" -storepass "$pass" \
    | while IFS= read -r line; do printf '%s\n' "${line%$'\r'}"; done > "$crt"
  if [ "$(id -u)" = 0 ]; then chown 1000:1000 "$store" "$crt"; fi
  chmod 0400 "$store"
  chmod 0444 "$crt"
fi

# Same claim mappings as the local stack: oidc:<preferred_username>, groups oidc:<group>, audience kubernetes.
auth="$out/apiserver/authentication.yaml"
{
  echo "apiVersion: apiserver.config.k8s.io/v1"
  echo "kind: AuthenticationConfiguration"
  echo "jwt:"
  echo "  - issuer:"
  echo "      url: $issuer"
  echo "      audiences: [kubernetes]"
  echo "      certificateAuthority: |"
  while IFS= read -r line; do echo "        $line"; done < "$crt"
  echo "    claimMappings:"
  echo "      username: { claim: preferred_username, prefix: 'oidc:' }"
  echo "      groups: { claim: groups, prefix: 'oidc:' }"
} > "$auth.tmp"
mv "$auth.tmp" "$auth"
chmod 0444 "$auth"
echo "keycloak TLS and apiserver authentication config ready in $out"
