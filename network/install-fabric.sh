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

echo "fabric binaries: building Fabric $FABRIC_VERSION and Fabric CA $FABRIC_CA_VERSION into $dest (first run only, several minutes)" >&2
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
gomodcache="$(go env GOMODCACHE)"
go mod download "$FABRIC_MODULE@$FABRIC_PSEUDO" "$FABRIC_CA_MODULE@$FABRIC_CA_VERSION"

stage="$(mktemp -d "$cache_root/.build.XXXXXX" 2>/dev/null || { mkdir -p "$cache_root"; mktemp -d "$cache_root/.build.XXXXXX"; })"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"

# Build inside each module's own folder so its go.mod (with its replace
# directives, which `go install pkg@version` refuses) is honoured exactly.
fabric_src="$gomodcache/$FABRIC_MODULE@$FABRIC_PSEUDO"
meta="github.com/hyperledger/fabric/common/metadata"
ldflags="-X $meta.Version=$FABRIC_VERSION -X $meta.CommitSHA=${FABRIC_PSEUDO##*-}"
(cd "$fabric_src" && go build -trimpath -ldflags "$ldflags" -o "$stage/bin/" \
  ./cmd/peer ./cmd/orderer ./cmd/configtxgen ./cmd/configtxlator ./cmd/osnadmin ./cmd/cryptogen)

ca_src="$gomodcache/$FABRIC_CA_MODULE@$FABRIC_CA_VERSION"
ca_meta="github.com/hyperledger/fabric-ca/lib/metadata"
(cd "$ca_src" && CGO_ENABLED=1 go build -trimpath -ldflags "-X $ca_meta.Version=${FABRIC_CA_VERSION#v}" -o "$stage/bin/" \
  ./cmd/fabric-ca-server ./cmd/fabric-ca-client)

# The peer and orderer read their defaults from the release's sample config.
mkdir -p "$stage/config"
cp "$fabric_src/sampleconfig/core.yaml" "$fabric_src/sampleconfig/orderer.yaml" "$stage/config/"
chmod u+w "$stage/config/"*

rm -rf "$dest"
mkdir -p "$dest"
mv "$stage/bin" "$stage/config" "$dest/"
touch "$dest/.complete"
echo "fabric binaries: built in $dest/bin" >&2
echo "$dest/bin"
