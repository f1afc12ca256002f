package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
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
// An answer is held in memory to take them out, up to maxHeldAnswer; a
// bigger one is passed on as it comes, its statistics included (an extra
// member of data that Prometheus' clients ignore), and its samples
// processed read from its last bytes, where the statistics are.

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

func (s *statsWriter) keepTail(b []byte) {
	s.tail = append(s.tail, b...)
	if len(s.tail) > tailBytes {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailBytes:]...)
	}
}

var totalSamplesRE = regexp.MustCompile(`"totalQueryableSamples":\s*(\d+)`)

// finish sends a held answer on, without its statistics if q.strip, and
// returns the query's samples processed and error.
func (s *statsWriter) finish(q *remoteQuery) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.streaming {
		var n int64
		if m := totalSamplesRE.FindAllSubmatch(s.tail, -1); len(m) > 0 {
			n, _ = strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
		}
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
// the answer without data.stats (nil when there is nothing to take out or
// it cannot be read), and its error (status is not 200).
func readAnswer(body []byte, status int, strip bool) (samples int64, stripped []byte, qerr error) {
	var top map[string]json.RawMessage
	readable := json.Unmarshal(body, &top) == nil
	if status != http.StatusOK {
		var msg string
		if !readable || json.Unmarshal(top["error"], &msg) != nil || msg == "" {
			msg = http.StatusText(status)
		}
		return 0, nil, errors.New(msg)
	}
	var data map[string]json.RawMessage
	if !readable || json.Unmarshal(top["data"], &data) != nil {
		return 0, nil, nil
	}
	raw, ok := data["stats"]
	if !ok {
		return 0, nil, nil
	}
	var st struct {
		Samples struct {
			TotalQueryableSamples int64 `json:"totalQueryableSamples"`
		} `json:"samples"`
	}
	if json.Unmarshal(raw, &st) == nil {
		samples = st.Samples.TotalQueryableSamples
	}
	if !strip {
		return samples, nil, nil
	}
	delete(data, "stats")
	d, err := json.Marshal(data)
	if err != nil {
		return samples, nil, nil
	}
	top["data"] = d
	out, err := json.Marshal(top)
	if err != nil {
		return samples, nil, nil
	}
	return samples, out, nil
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
