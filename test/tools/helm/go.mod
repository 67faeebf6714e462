// Pins the helm CLI that the tests run; ensure.sh builds it from the published module.
// helm.sh/helm/v3 declares no replace or exclude directives, so the require below is all it needs.
module talos-upgrade-operator/test/tools/helm

go 1.26.0

tool helm.sh/helm/v3/cmd/helm

require helm.sh/helm/v3 v3.22.0
