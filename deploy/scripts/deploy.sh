#!/usr/bin/env bash
# Deploys an overlay with kubectl in the order Concord needs: everything but the services (namespace, config,
# secrets, dev databases, the migration Job, the gateway), then waits for the migrations, then the services, then
# their rollout and the gateway's.
#
# Usage: deploy/scripts/deploy.sh [overlay-dir]   (default deploy/overlays/dev)
# Env:   KUBECTL (default kubectl), KUSTOMIZE (default: `kubectl kustomize`), TIMEOUT (default 10m)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
overlay="${1:-$here/../overlays/dev}"
kubectl="${KUBECTL:-kubectl}"
timeout="${TIMEOUT:-10m}"
services="relation,leadership,meterstatus,multiwatcher"

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
if [ -n "${KUSTOMIZE:-}" ]; then "$KUSTOMIZE" build "$overlay" >"$rendered"; else $kubectl kustomize "$overlay" >"$rendered"; fi
namespace="$(sed -n 's/^  namespace: //p' "$rendered" | head -n1)"
ns_args=()
[ -n "$namespace" ] && ns_args=(--namespace "$namespace")

echo "== dependencies, config and the migration Job"
# A Job's pod template is immutable: the previous run goes before a new one is applied.
$kubectl "${ns_args[@]}" delete job concord-migrate --ignore-not-found
$kubectl apply -f "$rendered" --selector "app.kubernetes.io/component notin ($services)"

echo "== waiting for the migrations"
$kubectl "${ns_args[@]}" wait --for=condition=complete job/concord-migrate --timeout="$timeout"

echo "== services"
$kubectl apply -f "$rendered"
# The gateway (applied with the dependencies: it needs no migration) last, once its backends roll out.
for s in ${services//,/ } gateway; do
  $kubectl "${ns_args[@]}" rollout status "deployment/concord-$s" --timeout="$timeout"
done
