//go:build !race

package tmplbound

// raceFactor is 1 without the race detector (see race_on_test.go).
const raceFactor = 1
