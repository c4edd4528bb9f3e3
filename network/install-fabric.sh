#!/usr/bin/env bash
# Build the pinned Fabric and Fabric CA binaries from the Go module proxy into a
# cache folder outside the repo, keyed by the pins. A second run finds the
# binaries and builds nothing. Prints the bin folder on the last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${EBILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ebill}"
key="fabric-${FABRIC_VERSION}-${FABRIC_PSEUDO##*-}_ca-${FABRIC_CA_VERSION}"
dest="$cache_root/$key"
bins=(peer orderer configtxgen configtxlator osnadmin cryptogen fabric-ca-server fabric-ca-client)

complete() {
  for b in "${bins[@]}"; do [ -x "$dest/bin/$b" ] || return 1; done
  [ -f "$dest/config/core.yaml" ] && [ -f "$dest/config/orderer.yaml" ] && [ -f "$dest/.complete" ]
}

if complete; then
  echo "fabric binaries: cached in $dest/bin" >&2
  echo "$dest/bin"
  exit 0
fi

command -v go >/dev/null || { echo "install-fabric: the Go toolchain (go >= $GO_MIN_VERSION) is required: apt-get install golang or see https://go.dev/doc/install" >&2; exit 1; }

started=$SECONDS
echo "fabric binaries: building Fabric $FABRIC_VERSION and Fabric CA $FABRIC_CA_VERSION into $dest (first run only, several minutes)" >&2
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
gomodcache="$(go env GOMODCACHE)"
echo "fabric binaries: downloading the Fabric and Fabric CA modules from the Go module proxy" >&2
go mod download "$FABRIC_MODULE@$FABRIC_PSEUDO" "$FABRIC_CA_MODULE@$FABRIC_CA_VERSION"

stage="$(mktemp -d "$cache_root/.build.XXXXXX" 2>/dev/null || { mkdir -p "$cache_root"; mktemp -d "$cache_root/.build.XXXXXX"; })"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"

# Build inside each module's own folder so its go.mod (with its replace
# directives, which `go install pkg@version` refuses) is honoured exactly.
# One binary at a time, so a first run shows which one it is on and how long
# each took; the Go build cache shares the common packages between them.
build() { # build <module dir> <ldflags> <cmd>...
  local src="$1" flags="$2" cmd t0
  shift 2
  for cmd in "$@"; do
    t0=$SECONDS
    echo "fabric binaries: building $cmd ... ($((SECONDS - started))s elapsed)" >&2
    (cd "$src" && go build -trimpath -ldflags "$flags" -o "$stage/bin/" "./cmd/$cmd") &
    local pid=$! ticks=0
    while kill -0 "$pid" 2>/dev/null; do # a line every 15 s while go is busy
      sleep 1
      ticks=$((ticks + 1))
      if ((ticks % 15 == 0)); then
        echo "fabric binaries: still building $cmd ($((SECONDS - t0))s)" >&2
      fi
    done
    wait "$pid"
    echo "fabric binaries: built $cmd in $((SECONDS - t0))s ($((SECONDS - started))s elapsed)" >&2
  done
}
fabric_src="$gomodcache/$FABRIC_MODULE@$FABRIC_PSEUDO"
meta="github.com/hyperledger/fabric/common/metadata"
build "$fabric_src" "-X $meta.Version=$FABRIC_VERSION -X $meta.CommitSHA=${FABRIC_PSEUDO##*-}" \
  peer orderer configtxgen configtxlator osnadmin cryptogen

ca_src="$gomodcache/$FABRIC_CA_MODULE@$FABRIC_CA_VERSION"
ca_meta="github.com/hyperledger/fabric-ca/lib/metadata"
CGO_ENABLED=1 build "$ca_src" "-X $ca_meta.Version=${FABRIC_CA_VERSION#v}" \
  fabric-ca-server fabric-ca-client

# The peer and orderer read their defaults from the release's sample config.
mkdir -p "$stage/config"
cp "$fabric_src/sampleconfig/core.yaml" "$fabric_src/sampleconfig/orderer.yaml" "$stage/config/"
chmod u+w "$stage/config/"*

rm -rf "$dest"
mkdir -p "$dest"
mv "$stage/bin" "$stage/config" "$dest/"
touch "$dest/.complete"
echo "fabric binaries: built in $dest/bin in $((SECONDS - started))s" >&2
echo "$dest/bin"
