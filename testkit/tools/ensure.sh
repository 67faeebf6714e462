#!/usr/bin/env bash
# Builds the test tools (kube-apiserver, kube-controller-manager, kube-scheduler, etcd; talosctl,
# etcdutl; helm; prometheus, promtool, alertmanager; versitygw; kstatus) from their published Go
# modules into a cache folder outside the clone, once per pinned version set, and prints the folder
# that holds the binaries on its last line.
#
#   testkit/tools/ensure.sh kube|talosctl|helm|monitoring|s3|kstatus            find in the cache, or build
#   testkit/tools/ensure.sh --lookup kube|talosctl|helm|monitoring|s3|kstatus   find in the cache, or exit 3 at once
#
# Tests only ever look up (testkit/control-plane/tools.ts); `npm run tools` and `npm test` build every
# group before the first test starts (testkit/control-plane/build-tools.ts), so no build runs inside a
# test's timeout.
#
# The group folders' Go modules keep their names (talos-upgrade-operator/test/tools/...) from before
# they moved to testkit/tools: a main module's name is only a name, and the cache key hashes the
# folder's files, so renaming them would rebuild every group for nothing.
#
# TUO_TOOLS_CACHE overrides the cache root (default: $XDG_CACHE_HOME/talos-upgrade-operator/tools).
# For the kube group, KUBEBUILDER_ASSETS pointing at a folder with etcd and kube-apiserver wins.
set -euo pipefail

lookup=false
if [ "${1:-}" = --lookup ]; then lookup=true; shift; fi
group=${1:?usage: ensure.sh [--lookup] kube|talosctl|helm|monitoring|s3|kstatus}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/$group"
[ -f "$src/go.mod" ] || { echo "ensure.sh: unknown tool group '$group'" >&2; exit 2; }

if [ "$group" = kube ] && [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if [ -x "$KUBEBUILDER_ASSETS/etcd" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
    echo "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  echo "ensure.sh: KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no etcd and kube-apiserver; using the tool cache instead" >&2
fi

root=${TUO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/talos-upgrade-operator/tools}
# The cache key covers the group's sources (go.mod pins the versions) and this recipe's revision:
# bump `recipe` when a change below alters what gets built.
recipe=1
key=$( (echo "recipe $recipe"; cd "$src" && find . -type f | sort | xargs cat) | sha256sum | cut -c1-16)
out="$root/$group-$key"
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
if $lookup; then
  echo "ensure.sh: the $group tools are not built (no $out); run \`npm run tools\` first (npm test does)" >&2
  exit 3
fi
command -v go >/dev/null || { echo "ensure.sh: Go is needed to build the $group tools and is not on PATH" >&2; exit 1; }

cd "$src"
mod_version() { go list -m -f '{{.Version}}' "$1"; }
# A case may set build tags, a work folder to delete afterwards, and a second go build (more_*: the
# module folder it runs in, an alternate go.mod or none, its ldflags and targets).
tags=""
work=""
more_dir=""
more_modfile=""
more_ldflags=""
more_targets=()
case "$group" in
  kube)
    v=$(mod_version k8s.io/kubernetes)
    minor=$(echo "$v" | cut -d. -f2)
    pkg=k8s.io/component-base/version
    ldflags="-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    targets=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
      k8s.io/kubernetes/cmd/kube-scheduler ./etcd)
    label="kubernetes $v, etcd $(mod_version go.etcd.io/etcd/server/v3)"
    ;;
  talosctl)
    v=$(mod_version github.com/siderolabs/talos)
    # version.Tag, SHA and Name (what `talosctl version` prints) are copied at init from gendata's
    # embedded strings, so -X must set those; the module ships sha "undefined", and Talos' release
    # builds use the tag's commit abbreviated to 8 digits, which the proxy's origin record gives.
    sha=$(go mod download -json "github.com/siderolabs/talos@$v" 2>/dev/null |
      sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{8\}\).*/\1/p' || true)
    pkg=github.com/siderolabs/talos/pkg/machinery/gendata
    ldflags="-s -w -X $pkg.VersionTag=$v -X $pkg.VersionName=Talos${sha:+ -X $pkg.VersionSHA=$sha}"
    # etcdutl (snapshot status and restore, for the etcd snapshot tests) at the version talosctl's
    # graph already requires; its main package reads no version variable of its own.
    targets=(github.com/siderolabs/talos/cmd/talosctl go.etcd.io/etcd/etcdutl/v3)
    label="talosctl $v, etcdutl $(mod_version go.etcd.io/etcd/etcdutl/v3)"
    ;;
  helm)
    v=$(mod_version helm.sh/helm/v3)
    # `helm version` prints internal/version's version, gitCommit and gitTreeState; set them as
    # helm's Makefile does for a tagged release (the proxy's origin record gives the tag's commit).
    # Its Makefile also sets the Kubernetes version that `helm template` and `helm lint` assume
    # offline (1.20 if unset) from client-go's: v0.X.Y means Kubernetes 1.X.
    sha=$(go mod download -json "helm.sh/helm/v3@$v" 2>/dev/null |
      sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' || true)
    k8s_minor=$(mod_version k8s.io/client-go | cut -d. -f2)
    pkg=helm.sh/helm/v3/internal/version
    ldflags="-s -w -X $pkg.version=$v${sha:+ -X $pkg.gitCommit=$sha -X $pkg.gitTreeState=clean}"
    for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
      ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
    done
    targets=(helm.sh/helm/v3/cmd/helm)
    label="helm $v"
    ;;
  monitoring)
    # Two modules: Prometheus (with promtool) here, Alertmanager in ./alertmanager (see go.mod).
    # Each module carries its release number in a VERSION file; `--version` prints the one set in
    # prometheus/common's version package, as their release builds set it.
    go mod download github.com/prometheus/prometheus
    prom_v=$(cat "$(go list -m -f '{{.Dir}}' github.com/prometheus/prometheus)/VERSION")
    # Only static scrape targets are used: leave out the cloud service discoveries (Prometheus'
    # remove_all_sd build tag); netgo as in their release builds.
    tags="netgo,remove_all_sd"
    pkg=github.com/prometheus/common/version
    ldflags="-s -w -X $pkg.Version=$prom_v"
    targets=(github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool)
    # Alertmanager embeds its web UI's built files (ui/app/dist), which its published module does
    # not contain, so the build fails as is. Build it from a copy of the module with a placeholder
    # page there instead (the tests use the HTTP API, not the UI), through an alternate go.mod that
    # replaces the module with that copy; the rest of its dependency graph is its go.mod's.
    am_dir=$(cd alertmanager && go mod download github.com/prometheus/alertmanager &&
      go list -m -f '{{.Dir}}' github.com/prometheus/alertmanager)
    am_v=$(cat "$am_dir/VERSION")
    work="$out.work.$$"
    rm -rf "$work" && mkdir -p "$work"
    trap 'rm -rf "$work"' EXIT
    cp -r "$am_dir" "$work/alertmanager" && chmod -R u+w "$work/alertmanager"
    for ui in elm mantine; do
      mkdir -p "$work/alertmanager/ui/app/dist/$ui"
      # Served only gzip- or brotli-encoded, as the UI's own build leaves its pages.
      printf '<!doctype html><title>Alertmanager</title><p>Built for tests without its web UI; the API is at /api/v2/.</p>\n' |
        gzip -n >"$work/alertmanager/ui/app/dist/$ui/index.html.gz"
    done
    cp alertmanager/go.mod "$work/build.mod" && cp alertmanager/go.sum "$work/build.sum"
    go mod edit -modfile="$work/build.mod" -replace "github.com/prometheus/alertmanager=$work/alertmanager"
    more_dir="$src/alertmanager"
    more_modfile="$work/build.mod"
    more_ldflags="-s -w -X $pkg.Version=$am_v"
    more_targets=(github.com/prometheus/alertmanager/cmd/alertmanager)
    label="prometheus $prom_v, alertmanager $am_v"
    ;;
  s3)
    # Versity Gateway, an S3 server over a plain folder (its posix backend). `versitygw --version`
    # prints main.Version, which its Makefile sets from the release tag.
    v=$(mod_version github.com/versity/versitygw)
    ldflags="-s -w -X main.Version=$v"
    targets=(github.com/versity/versitygw/cmd/versitygw)
    label="versitygw $v"
    ;;
  kstatus)
    # kstatus, the readiness rules of sigs.k8s.io/cli-utils that Flux applies to custom resources:
    # the module's own main.go runs status.Compute on one object read from stdin.
    ldflags="-s -w"
    targets=(.)
    label="kstatus (cli-utils $(mod_version sigs.k8s.io/cli-utils))"
    ;;
esac

echo "ensure.sh: building $label into $out (minutes on a fresh machine; cached afterwards)" >&2
tmp="$out.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp"
trap 'rm -rf "$tmp" ${work:+"$work"}' EXIT
start=$(date +%s)
compile() { # module folder, alternate go.mod or "", ldflags, then the packages to build into $tmp
  local dir=$1 mod=$2 flags=$3
  shift 3
  # -v names each package as it compiles: count them so a long cold build shows it is alive.
  (cd "$dir" && CGO_ENABLED=0 go build ${mod:+-modfile="$mod"} ${tags:+-tags "$tags"} -v -trimpath \
    -ldflags "$flags" -o "$tmp/" "$@") 2>&1 |
    awk '/^go: downloading/ {next} { n++; if (n % 100 == 0) { printf "ensure.sh: %d packages compiled (%s)\n", n, $0 > "/dev/stderr"; fflush() } }
         /: / && !/^[a-z0-9.\/_-]+$/ { print > "/dev/stderr" }'
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "ensure.sh: building $label failed" >&2; exit 1; }
}
compile "$src" "" "$ldflags" "${targets[@]}"
if [ -n "$more_dir" ]; then compile "$more_dir" "$more_modfile" "$more_ldflags" "${more_targets[@]}"; fi
touch "$tmp/.complete"
rm -rf "$out" && mv "$tmp" "$out"
[ -z "$work" ] || rm -rf "$work"
trap - EXIT
echo "ensure.sh: built $label in $(( $(date +%s) - start ))s" >&2
echo "$out"
