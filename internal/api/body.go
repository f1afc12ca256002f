package api

import (
	"io"
	"sync"
)

// bodyReader reads request bodies through reused scratch buffers and
// returns each body in a slice of exactly its size. io.ReadAll allocates
// about twice what it returns (its growing chunks, then the final copy):
// on the remote_write path, where every request brings a body of tens of
// kilobytes, that was half of all the bytes the server allocated, and so
// of the garbage collector's work. A scratch buffer only grows as bytes
// arrive (never from a declared Content-Length), so a client cannot make
// the server allocate more than it sends.
type bodyReader struct {
	scratch sync.Pool // *[]byte
}

// maxScratch is the largest scratch buffer kept for reuse: a rare big body
// does not stay pinned.
const maxScratch = 1 << 20

func (br *bodyReader) readAll(r io.Reader) ([]byte, error) {
	sp, _ := br.scratch.Get().(*[]byte)
	if sp == nil {
		sp = new([]byte)
	}
	b := (*sp)[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	var err error
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow by append's policy
		}
		var n int
		n, err = r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	out := make([]byte, len(b))
	copy(out, b)
	if cap(b) <= maxScratch {
		*sp = b
		br.scratch.Put(sp)
	}
	return out, err
}
