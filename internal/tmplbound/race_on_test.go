//go:build race

package tmplbound

// raceFactor widens the time and allocation bounds of the blow-up tests:
// the race detector slows execution and makes sync.Pool drop what it
// holds, so the regexp and fmt machinery allocate afresh.
const raceFactor = 4
