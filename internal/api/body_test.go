package api

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// Bodies read one after another through the same scratch buffers come back
// whole and exact, never sharing memory with the scratch or with each
// other, however the reader hands out its bytes.
func TestBodyReaderReturnsEachBodyExactly(t *testing.T) {
	var br bodyReader
	rng := rand.New(rand.NewPCG(1, 2))
	var kept [][]byte
	var want [][]byte
	for i, size := range []int{0, 1, 511, 512, 513, 70_000, 3, maxScratch + 10, 200_000, 17} {
		body := make([]byte, size)
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		readers := []io.Reader{bytes.NewReader(body), iotest.OneByteReader(bytes.NewReader(body)), iotest.HalfReader(bytes.NewReader(body)), iotest.DataErrReader(bytes.NewReader(body))}
		r := readers[i%len(readers)]
		got, err := br.readAll(r)
		if err != nil {
			t.Fatalf("body %d (%d bytes): %v", i, size, err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("body %d (%d bytes): read %d bytes that differ from what was sent", i, size, len(got))
		}
		if cap(got) != len(got) {
			t.Errorf("body %d: returned with capacity %d for %d bytes", i, cap(got), len(got))
		}
		kept, want = append(kept, got), append(want, body)
	}
	// Reading on must not have written into bodies already returned.
	for i := range kept {
		if !bytes.Equal(kept[i], want[i]) {
			t.Fatalf("body %d changed after later reads", i)
		}
	}
}

func TestBodyReaderReturnsTheReadError(t *testing.T) {
	var br bodyReader
	boom := errors.New("connection reset")
	_, err := br.readAll(io.MultiReader(bytes.NewReader([]byte("partial")), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	// The scratch buffer is reused after a failed read without its bytes.
	got, err := br.readAll(bytes.NewReader([]byte("next")))
	if err != nil || string(got) != "next" {
		t.Fatalf("next read = %q, %v", got, err)
	}
}

// BenchmarkReadBody shows what reading a remote_write-sized body costs in
// allocations, against io.ReadAll.
func BenchmarkReadBody(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 70_000/16)
	b.Run("bodyReader", func(b *testing.B) {
		var br bodyReader
		b.ReportAllocs()
		for b.Loop() {
			if _, err := br.readAll(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("io.ReadAll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := io.ReadAll(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
