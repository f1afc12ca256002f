package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Queries sent to the remote query path (Cortex' query-frontend) are
// observed as the local engine's are (Options.Observe: usage, query
// logging): the request asks for Prometheus' query statistics (stats=1,
// without the per-step samples), the answer's
// data.stats.samples.totalQueryableSamples is the query's samples
// processed, and the statistics are taken out of the answer again when
// the client did not ask for them.
//
// The statistics are found from the answer's end (findStats), not by
// decoding it. An answer is held in memory to take them out, up to
// maxHeldAnswer; a bigger one is passed on as it comes, its statistics
// included (an extra member of data that Prometheus' clients ignore), and
// its samples processed read from its last bytes.

const (
	maxHeldAnswer = 8 << 20
	tailBytes     = 64 << 10
)

// remoteQuery is one query on its way to the remote query path.
type remoteQuery struct {
	ws, qs     string
	start, end time.Time
	step       time.Duration
	began      time.Time
	// strip: the client did not ask for statistics.
	strip bool
}

// newRemoteQuery reads what the query log needs from r's parsed form and
// asks for statistics if the client did not.
func newRemoteQuery(r *http.Request, ws string) *remoteQuery {
	q := &remoteQuery{ws: ws, qs: formValue(r, "query"), began: time.Now()}
	if r.URL.Path == "/api/v1/query_range" {
		q.start, _ = parseTime(formValue(r, "start"))
		q.end, _ = parseTime(formValue(r, "end"))
		q.step, _ = parseDuration(formValue(r, "step"))
	} else {
		q.start, _ = parseTime(formValue(r, "time"))
		q.end = q.start
	}
	if formValue(r, "stats") == "" {
		q.strip = true
		setForm(r, "stats", "1")
	}
	// The answer is read here: Go's transport asks for and undoes gzip
	// itself when the client's Accept-Encoding is not passed on.
	r.Header.Del("Accept-Encoding")
	return q
}

// formValue is a parameter as serveRemote will send it: setForm changes
// the POST form or the URL, not r.Form.
func formValue(r *http.Request, k string) string {
	if v := r.PostForm.Get(k); v != "" {
		return v
	}
	if v := r.URL.Query().Get(k); v != "" {
		return v
	}
	return r.Form.Get(k)
}

// statsWriter holds the remote answer (up to maxHeldAnswer), or passes it
// on keeping its last tailBytes.
type statsWriter struct {
	w      http.ResponseWriter
	status int
	held   bytes.Buffer
	// streaming: the answer was too big (or not a success) to hold.
	streaming bool
	tail      []byte
}

func (s *statsWriter) Header() http.Header { return s.w.Header() }

// WriteHeader records the status: it is sent with the answer.
func (s *statsWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func (s *statsWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.streaming {
		s.keepTail(b)
		return s.w.Write(b)
	}
	if s.held.Len()+len(b) <= maxHeldAnswer {
		return s.held.Write(b)
	}
	// Too big to hold: send what is held and go on streaming.
	s.streaming = true
	s.w.Header().Del("Content-Length")
	s.w.WriteHeader(s.status)
	held := s.held.Bytes()
	s.keepTail(held)
	if _, err := s.w.Write(held); err != nil {
		return 0, err
	}
	s.held = bytes.Buffer{}
	s.keepTail(b)
	return s.w.Write(b)
}

// keepTail keeps the last tailBytes of what was sent, copying no more of
// b than that (b is the whole held answer, up to maxHeldAnswer, once).
func (s *statsWriter) keepTail(b []byte) {
	if len(b) >= tailBytes {
		s.tail = append(s.tail[:0], b[len(b)-tailBytes:]...)
		return
	}
	if over := len(s.tail) + len(b) - tailBytes; over > 0 {
		s.tail = append(s.tail[:0], s.tail[over:]...)
	}
	s.tail = append(s.tail, b...)
}

// finish sends a held answer on, without its statistics if q.strip, and
// returns the query's samples processed and error.
func (s *statsWriter) finish(q *remoteQuery) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.streaming {
		n, _, _, _ := findStats(s.tail)
		return n, nil
	}
	body := s.held.Bytes()
	samples, stripped, qerr := readAnswer(body, s.status, q.strip)
	if stripped != nil {
		body = stripped
	}
	s.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	s.w.WriteHeader(s.status)
	_, _ = s.w.Write(body)
	return samples, qerr
}

// readAnswer reads a query API answer: its samples processed, if strip
// the answer without data.stats (nil when there is nothing to take out),
// and its error (status is not 200).
func readAnswer(body []byte, status int, strip bool) (samples int64, stripped []byte, qerr error) {
	if status != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := http.StatusText(status)
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return 0, nil, errors.New(msg)
	}
	samples, from, to, ok := findStats(body)
	if !ok || !strip {
		return samples, nil, nil
	}
	return samples, append(body[:from:from], body[to:]...), nil
}

// statsKey is data.stats's member name as Prometheus' JSON writes it.
var statsKey = []byte(`,"stats":`)

// findStats finds data.stats in an answer without reading the rest of it:
// Prometheus (and Cortex) write it as the last member of data, after the
// result. It returns the samples processed and where the member is
// (from its comma to the end of its object), ok only for a statistics
// object followed by the end of data. The key cannot be found inside a
// string (quotes in strings are escaped), and a label named stats is a
// string, not an object, and never data's last member.
func findStats(b []byte) (samples int64, from, to int, ok bool) {
	from = bytes.LastIndex(b, statsKey)
	if from < 0 {
		return 0, 0, 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(b[from+len(statsKey):]))
	var st struct {
		Samples *struct {
			TotalQueryableSamples int64 `json:"totalQueryableSamples"`
		} `json:"samples"`
	}
	if dec.Decode(&st) != nil || st.Samples == nil {
		return 0, 0, 0, false
	}
	to = from + len(statsKey) + int(dec.InputOffset())
	if rest := bytes.TrimLeft(b[to:], " \t\r\n"); len(rest) == 0 || rest[0] != '}' {
		return 0, 0, 0, false
	}
	return st.Samples.TotalQueryableSamples, from, to, true
}

// serveObserved runs the remote query path for q and reports it to
// observe.
func (a *API) serveObserved(w http.ResponseWriter, r *http.Request, q *remoteQuery, observe func(context.Context, Executed)) {
	sw := &statsWriter{w: w}
	a.remote.ServeHTTP(sw, r)
	samples, err := sw.finish(q)
	observe(r.Context(), Executed{Workspace: q.ws, Query: q.qs, Start: q.start, End: q.end, Step: q.step,
		Samples: samples, Duration: time.Since(q.began), Err: err})
}
