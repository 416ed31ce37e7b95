#!/usr/bin/env bash
# Builds every image docker-compose.yml runs, from one Debian base plus Debian's packages, PyPI, npm and Maven
# Central only (docs/operations.md "Container images"):
#   otop/services (every Python service and job)  otop/kafka  otop/keycloak  otop/gateway  otop/postgres
#   otop/prometheus                               tagged $OTOP_IMAGE_TAG (default latest), labelled with the
#                                                 git revision (org.opencontainers.image.revision)
# Environment:
#   OTOP_BASE_IMAGE      the base (default debian:bookworm-slim). When it is neither local nor pullable (no
#                        registry reachable) and is the default, it is made here with debootstrap from
#                        OTOP_DEBIAN_MIRROR (default http://deb.debian.org/debian) as otop/base:bookworm.
#   OTOP_BUILD_EXTRA_CA  a PEM file of extra CA certificates the build stages trust (a TLS-inspecting proxy's),
#                        given as a build secret: it is never in a final image.
#   OTOP_IMAGES          which to build (default all, e.g. "services gateway"); OTOP_BUILD_JOBS at a time (2)
# Builds need BuildKit (build secrets): docker buildx where installed, else Debian's docker.io CLI
# with DOCKER_BUILDKIT=1. The layer cache is the engine's: a second build with nothing changed takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${OTOP_IMAGE_TAG:-latest}
base=${OTOP_BASE_IMAGE:-debian:bookworm-slim}
mirror=${OTOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
images=${OTOP_IMAGES:-gateway keycloak services kafka postgres prometheus}  # the longest first
say() { echo "build-images: $*" >&2; }

declare -A dockerfile=([services]=deploy/Dockerfile [kafka]=deploy/kafka/Dockerfile
  [keycloak]=deploy/keycloak/Dockerfile [gateway]=deploy/gateway/Dockerfile
  [postgres]=deploy/postgres/Dockerfile [prometheus]=deploy/prometheus/Dockerfile)

if docker buildx version >/dev/null 2>&1; then
  build=(docker buildx build --load)
elif [ -x /usr/bin/docker ] && DOCKER_BUILDKIT=1 /usr/bin/docker build --help 2>/dev/null | grep -q -- --secret; then
  build=(env DOCKER_BUILDKIT=1 /usr/bin/docker build)  # Debian's docker.io CLI has BuildKit built in
else
  say "no BuildKit client: install docker buildx, or Debian's docker.io (its CLI builds with DOCKER_BUILDKIT=1)"
  exit 1
fi

# The base: local, else pulled, else (the default only) made from Debian's archive.
if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; then
  [ "$base" = debian:bookworm-slim ] || { say "base image $base is neither local nor pullable"; exit 1; }
  base=otop/base:bookworm
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { say "no registry reachable and no debootstrap: apt-get install debootstrap"; exit 1; }
    root=$(mktemp -d /var/tmp/otop-base.XXXXXX)
    say "no registry reachable: making $base with debootstrap from $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
      || { tail -20 "$root.log" >&2; rm -rf "$root" "$root.log"; exit 1; }
    # As debian:bookworm-slim: the archive, its updates and the security archive; no package lists or caches.
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' \
      "$mirror" "$mirror" "$mirror" >"$root/etc/apt/sources.list"
    printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/00otop-no-recommends"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | docker import --change 'CMD ["bash"]' \
      --change "LABEL org.opencontainers.image.title=otop-base org.opencontainers.image.source=$mirror" - "$base" >/dev/null
    rm -rf "$root" "$root.log"
  fi
fi

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
secret=()
if [ -n "${OTOP_BUILD_EXTRA_CA:-}" ]; then
  [ -s "$OTOP_BUILD_EXTRA_CA" ] || { say "OTOP_BUILD_EXTRA_CA=$OTOP_BUILD_EXTRA_CA is not a file"; exit 1; }
  secret=(--secret "id=extra_ca,src=$OTOP_BUILD_EXTRA_CA")
fi
logs=${TMPDIR:-/tmp}/otop-build-images
mkdir -p "$logs"
build_one() {
  local image=$1 started=$SECONDS
  if ! "${build[@]}" --progress=plain -f "${dockerfile[$image]}" --build-arg "BASE=$base" \
      --build-arg "REVISION=$revision" "${secret[@]}" -t "otop/$image:$tag" . >"$logs/$image.log" 2>&1; then
    tail -40 "$logs/$image.log" >&2
    say "otop/$image failed (whole log: $logs/$image.log)"
    return 1
  fi
  say "otop/$image:$tag built in $((SECONDS - started)) s"
}
# OTOP_BUILD_JOBS builds at a time (default 2): their downloads overlap, and the machine has 2 cores.
jobs_max=${OTOP_BUILD_JOBS:-2}
pids=()
for image in $images; do
  [ -n "${dockerfile[$image]:-}" ] || { say "no image $image (one of ${!dockerfile[*]})"; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  build_one "$image" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || exit 1
say "base $base, revision $revision; sizes:"
for image in $images; do
  docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' "otop/$image:$tag" >&2
done
