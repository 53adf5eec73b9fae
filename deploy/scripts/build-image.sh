#!/usr/bin/env bash
# Builds the Concord image from the repository's Dockerfile with buildah (no Docker engine needed): makes the base
# image locally first when it is not in buildah's storage (deploy/scripts/make-base-image.sh), then
# `buildah bud --isolation chroot` with the vfs storage driver, which work unprivileged-in-a-container and here.
# With Docker and registry access, `docker build -t concord .` builds the same Dockerfile unchanged.
#
# Usage: deploy/scripts/build-image.sh
# Env:   IMAGE (default localhost/concord:dev), CONTEXT (build context, default the repository),
#        BUILDAH_STORAGE_DRIVER (default vfs), BUILDAH_ISOLATION (default chroot), plus make-base-image.sh's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
IMAGE="${IMAGE:-localhost/concord:dev}"
CONTEXT="${CONTEXT:-$repo}"
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
isolation="${BUILDAH_ISOLATION:-chroot}"

command -v buildah >/dev/null || { echo "build-image: buildah is required (apt-get install buildah debootstrap)" >&2; exit 1; }
start=$(date +%s)
BUILDAH_STORAGE_DRIVER="$driver" "$here/make-base-image.sh"
base_done=$(date +%s)

# A host that reaches the npm registry through a TLS-intercepting proxy trusts the proxy's CA through
# NODE_EXTRA_CA_CERTS: the build stage gets the same bundle, mounted for the build only (it is not in any layer).
ca_args=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_args=(--volume "$NODE_EXTRA_CA_CERTS:/run/concord-build-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/concord-build-ca.crt)
fi

echo "== buildah bud $IMAGE (context $CONTEXT)"
# --pull=never: the base must be the local one (made above) or already in the store; no registry is asked.
buildah --storage-driver "$driver" bud \
  --isolation "$isolation" \
  --pull=never \
  --network host \
  "${ca_args[@]}" \
  --file "$repo/Dockerfile" \
  --tag "$IMAGE" \
  "$CONTEXT"
end=$(date +%s)
size=$(buildah --storage-driver "$driver" images --format '{{.Size}}' "$IMAGE" 2>/dev/null | head -n1 || true)
echo "built $IMAGE: base $((base_done - start))s, image $((end - base_done))s, total $((end - start))s${size:+, $size}"
