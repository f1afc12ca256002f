// Package freeport finds a free TCP port on loopback for the peers the
// tests start (PostgreSQL, Cortex, etcd and kube-apiserver). It imports
// nothing of Kansoku, so any test helper can use it without a cycle.
package freeport

import (
	"fmt"
	"net"
)

// Get returns a port on 127.0.0.1 that was free a moment ago.
func Get() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
