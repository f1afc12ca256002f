package cluster

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/auth"
)

func TestForwardCarriesTheIdentityAndRefusesForgeries(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a, b := NewForwarder(key, "a"), NewForwarder(key, "b")
	var got *auth.Identity
	var gotErr error
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got, _, gotErr = b.Verify(r, body)
		w.Header().Set("X-From-Owner", "yes")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("served " + string(body)))
	}))
	defer owner.Close()

	id := &auth.Identity{AccountID: "123456789012", PrincipalARN: "arn:aws:iam::123456789012:user/alice", PrincipalName: "alice"}
	r := httptest.NewRequest(http.MethodPost, "/workspaces/ws-1/alertmanager/api/v2/silences?x=1", strings.NewReader("{}"))
	rec := httptest.NewRecorder()
	if err := a.Forward(rec, r, NodeInfo{ID: "b", URL: owner.URL}, id, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if gotErr != nil || got == nil || got.PrincipalARN != id.PrincipalARN {
		t.Fatalf("owner verified %+v, %v", got, gotErr)
	}
	if rec.Code != http.StatusCreated || rec.Body.String() != "served {}" || rec.Header().Get("X-From-Owner") != "yes" {
		t.Fatalf("answer not relayed: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}

	// Forgeries: another key, a changed body, a changed path, a replay.
	other := NewForwarder(bytes.Repeat([]byte{8}, 32), "x")
	signed := func(f *Forwarder, path string, body []byte) *http.Request {
		var captured *http.Request
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { captured = r.Clone(r.Context()) }))
		defer srv.Close()
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		_ = f.Forward(httptest.NewRecorder(), req, NodeInfo{ID: "b", URL: srv.URL}, id, body)
		return captured
	}
	if _, _, err := b.Verify(signed(other, "/p", []byte("x")), []byte("x")); err == nil {
		t.Error("a request signed with another key was accepted")
	}
	if _, _, err := b.Verify(signed(a, "/p", []byte("x")), []byte("y")); err == nil {
		t.Error("a request with another body was accepted")
	}
	req := signed(a, "/p", []byte("x"))
	req.URL.Path = "/q"
	if _, _, err := b.Verify(req, []byte("x")); err == nil {
		t.Error("a request for another path was accepted")
	}
	old := signed(a, "/p", []byte("x"))
	b.now = func() time.Time { return time.Now().Add(time.Minute) }
	if _, _, err := b.Verify(old, []byte("x")); err == nil {
		t.Error("a replayed request was accepted")
	}
	if IsForwarded(httptest.NewRequest(http.MethodGet, "/", nil)) {
		t.Error("a plain request claims to be forwarded")
	}
}
