package query

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// cortexAnswer is an answer of Cortex 1.21's query-frontend to a query
// with stats=1, as it printed it (statistics last in data, infos after
// data).
const cortexAnswer = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796614194,"0.6666666666666666"]}],` +
	`"stats":{"samples":{"totalQueryableSamples":200,"totalQueryableSamplesPerStep":[],"peakSamples":30}}},` +
	`"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"qsp_metric\" (1:10)"]}`

// remoteFixture is an API whose sample-reading queries go to a fake
// remote query path, and what it observed.
type remoteFixture struct {
	api *API
	mu  sync.Mutex
	// got is the last request the remote received; answer is what it
	// answers.
	got      url.Values
	gotAE    string
	status   int
	answer   string
	observed []Executed
}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	f := &remoteFixture{status: http.StatusOK, answer: cortexAnswer}
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { mgr.CloseAll() })
	remote := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What goes over the wire: the URL's query and the body (r.Form
		// was parsed before the parameters were changed).
		got := r.URL.Query()
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			vs, err := url.ParseQuery(string(b))
			if err != nil {
				t.Error(err)
			}
			for k, v := range vs {
				got[k] = v
			}
		}
		f.mu.Lock()
		f.got, f.gotAE = got, r.Header.Get("Accept-Encoding")
		status, answer := f.status, f.answer
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	})
	f.api = New(Options{Limits: limits.NewOverrides(limits.Defaults()), Remote: remote, Observe: func(_ context.Context, e Executed) {
		f.mu.Lock()
		f.observed = append(f.observed, e)
		f.mu.Unlock()
	}}, mgr, nil)
	return f
}

func (f *remoteFixture) do(t *testing.T, r *http.Request) (*httptest.ResponseRecorder, Executed) {
	t.Helper()
	r.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, r.WithContext(tenant.WithWorkspace(r.Context(), "ws-1")))
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.observed) != 1 {
		t.Fatalf("%d queries observed, want 1", len(f.observed))
	}
	e := f.observed[0]
	f.observed = nil
	if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %s, body %d bytes", cl, rec.Body.Len())
	}
	return rec, e
}

// TestRemoteQueriesAreObserved: a query served by the remote query path
// (Cortex) is observed with its samples processed, read from the
// statistics the request asks for; a client that did not ask for them
// gets the answer without them, everything else as it was.
func TestRemoteQueriesAreObserved(t *testing.T) {
	f := newRemoteFixture(t)

	// An instant query by GET, without stats.
	rec, e := f.do(t, httptest.NewRequest("GET", "/api/v1/query?query=sum(rate(qsp_metric[5m]))&time=1796614194", nil))
	if f.got.Get("stats") != "1" || f.gotAE != "" {
		t.Errorf("the remote got stats=%q, Accept-Encoding %q; want stats=1 and none", f.got.Get("stats"), f.gotAE)
	}
	var body map[string]json.RawMessage
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var data map[string]json.RawMessage
	_ = json.Unmarshal(body["data"], &data)
	if _, ok := data["stats"]; ok || string(data["resultType"]) != `"vector"` || !strings.Contains(string(data["result"]), `"0.6666666666666666"`) || !strings.Contains(string(body["infos"]), "might not be a counter") {
		t.Errorf("the client's answer: %s", rec.Body)
	}
	if e.Workspace != "ws-1" || e.Query != "sum(rate(qsp_metric[5m]))" || e.Samples != 200 || e.Err != nil ||
		!e.Start.Equal(time.Unix(1796614194, 0)) || !e.End.Equal(e.Start) || e.Step != 0 {
		t.Errorf("observed %+v", e)
	}

	// A range query by POST that asks for all statistics gets them.
	form := url.Values{"query": {"sum(qsp_metric)"}, "start": {"1796610000"}, "end": {"1796613600"}, "step": {"60"}, "stats": {"all"}}
	r := httptest.NewRequest("POST", "/api/v1/query_range", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec, e = f.do(t, r)
	if f.got.Get("stats") != "all" || rec.Body.String() != cortexAnswer {
		t.Errorf("the remote got stats=%q; the client got %s", f.got.Get("stats"), rec.Body)
	}
	if e.Samples != 200 || e.Step != time.Minute || !e.Start.Equal(time.Unix(1796610000, 0)) || !e.End.Equal(time.Unix(1796613600, 0)) {
		t.Errorf("observed %+v", e)
	}

	// A refusal is passed on as it came, and observed as an error.
	refusal := `{"status":"error","errorType":"execution","error":"the query hit the max number of chunks limit"}`
	f.status, f.answer = http.StatusUnprocessableEntity, refusal
	rec, e = f.do(t, httptest.NewRequest("GET", "/api/v1/query?query=up", nil))
	if rec.Code != http.StatusUnprocessableEntity || rec.Body.String() != refusal {
		t.Errorf("refusal: %d %s", rec.Code, rec.Body)
	}
	if e.Err == nil || e.Err.Error() != "the query hit the max number of chunks limit" || e.Samples != 0 || e.Start.IsZero() {
		t.Errorf("observed %+v", e)
	}
}

// TestBigRemoteAnswersPassThrough: an answer bigger than what is held to
// take the statistics out goes to the client whole, as it came, and its
// samples processed are still read.
func TestBigRemoteAnswersPassThrough(t *testing.T) {
	f := newRemoteFixture(t)
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; b.Len() < maxHeldAnswer+1<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"__name__":"big","i":"%d"},"value":[1796614194,"1"]}`, i)
	}
	b.WriteString(`],"stats":{"samples":{"totalQueryableSamples":123456789,"totalQueryableSamplesPerStep":[],"peakSamples":7}}}}`)
	f.answer = b.String()
	rec, e := f.do(t, httptest.NewRequest("GET", "/api/v1/query?query=big", nil))
	if rec.Code != 200 || rec.Body.String() != f.answer {
		t.Fatalf("%d, %d bytes of %d", rec.Code, rec.Body.Len(), len(f.answer))
	}
	if e.Samples != 123456789 || e.Err != nil {
		t.Errorf("observed %+v", e)
	}
}

// TestFindStats: the statistics are found from the answer's end and taken
// out exactly; a label named stats, or statistics that are not data's
// last member, are left alone.
func TestFindStats(t *testing.T) {
	withoutStats := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796614194,"0.6666666666666666"]}]},` +
		`"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"qsp_metric\" (1:10)"]}`
	n, stripped, err := readAnswer([]byte(cortexAnswer), http.StatusOK, true)
	if n != 200 || err != nil || string(stripped) != withoutStats {
		t.Errorf("Cortex' answer: %d %v\n%s", n, err, stripped)
	}
	for _, body := range []string{
		// A series with a label named stats, and no statistics.
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"x","stats":"y"},"value":[1,"1"]}]}}`,
		// Statistics that data's last member does not follow.
		`{"status":"success","data":{"resultType":"vector","stats":{"samples":{"totalQueryableSamples":5}},"result":[]}}`,
		// A warning that quotes the key.
		`{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["\",\"stats\":{\"samples\":{}}"]}`,
	} {
		if n, stripped, err := readAnswer([]byte(body), http.StatusOK, true); n != 0 || stripped != nil || err != nil {
			t.Errorf("%s: %d %s %v", body, n, stripped, err)
		}
	}
}

// BenchmarkReadAnswer: reading the samples processed, and taking the
// statistics out, of a 1 MiB answer.
func BenchmarkReadAnswer(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i := 0; sb.Len() < 1<<20; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"metric":{"__name__":"big","i":"%d"},"values":[[1796614194,"1"],[1796614209,"2"]]}`, i)
	}
	sb.WriteString(`],"stats":{"samples":{"totalQueryableSamples":123,"totalQueryableSamplesPerStep":[],"peakSamples":7}}}}`)
	body := []byte(sb.String())
	for _, strip := range []bool{false, true} {
		b.Run(fmt.Sprint("strip=", strip), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				readAnswer(body, http.StatusOK, strip)
			}
		})
	}
}

// The streaming path keeps exactly the last tailBytes of what it sent,
// whatever the sizes of the writes.
func TestKeepTail(t *testing.T) {
	var s statsWriter
	var sent []byte
	for i, n := range []int{10, tailBytes - 5, 7, 3 * tailBytes, 1, tailBytes, 100, 0, tailBytes/2 + 1} {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(i*31 + j)
		}
		s.keepTail(b)
		sent = append(sent, b...)
		want := sent[max(0, len(sent)-tailBytes):]
		if string(s.tail) != string(want) {
			t.Fatalf("after write %d (%d bytes): kept %d bytes, want the last %d sent", i, n, len(s.tail), len(want))
		}
	}
}
