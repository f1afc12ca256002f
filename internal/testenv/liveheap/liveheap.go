// Package liveheap measures the heap a test holds, for tests that bound
// what a component keeps per workspace. It imports nothing of Kansoku, so
// any package's tests can use it without a cycle. The figures are
// process-wide: tests that use it must not run in parallel with others.
package liveheap

import "runtime"

// Bytes returns the bytes of live heap objects after two full collections
// (the second frees what the first's finalizers released).
func Bytes() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
