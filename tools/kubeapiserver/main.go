// Command kubeapiserver is the Kubernetes API server of k8s.io/kubernetes
// v1.37.2 (pinned in go.mod), built from the Go module proxy by
// scripts/build-kube-apiserver.sh into .cache/kubeapiserver for the tests of
// managed scrapers with an eksConfiguration source. Its main is the
// upstream cmd/kube-apiserver main; nothing of it is vendored.
//
// The replace lines point every k8s.io staging module at its v0.37.2
// release: k8s.io/kubernetes' own go.mod replaces them with paths inside its
// repository, which a module that requires it must repeat with versions.
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
