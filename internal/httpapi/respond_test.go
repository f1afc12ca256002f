package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/apierr"
)

// Exactly one JSON value: data after it is refused, so that what a
// Resources function authorized and what the handler does cannot read
// different values out of one body.
func TestDecodeBody(t *testing.T) {
	var v struct{ Name string }
	for body, ok := range map[string]bool{
		``:                         true,
		`  `:                       true,
		`{"name":"a"}`:             true,
		`{"name":"a"}` + "\n":      true,
		`{"name":"a"} {}`:          false,
		`{"name":"a"}{"name":"b"}`: false,
		`{"name":"a"} x`:           false,
		`{"name":`:                 false,
	} {
		err := DecodeBody([]byte(body), &v, false)
		if (err == nil) != ok {
			t.Errorf("DecodeBody(%q) = %v, want ok=%v", body, err, ok)
		}
		if e, isAPI := apierr.As(err); err != nil && (!isAPI || e.Status != 400) {
			t.Errorf("DecodeBody(%q): %v is not a 400", body, err)
		}
	}
	if err := DecodeBody([]byte(`{"name":"a","extra":1}`), &v, false); err != nil {
		t.Errorf("AMP's shapes ignore unknown members: %v", err)
	}
	if err := DecodeBody([]byte(`{"name":"a","extra":1}`), &v, true); err == nil {
		t.Error("Kansoku's own shapes refuse unknown members")
	}
	r := httptest.NewRequest("POST", "/", nil).WithContext(WithBody(t.Context(), nil))
	if err := DecodeStrictJSON(r, &v); err == nil {
		t.Error("an empty body is not a JSON object")
	}
}

// One error, each plane's format.
func TestWriteErrorPlanes(t *testing.T) {
	err := apierr.NotFound("Workspace", "ws-x", "Workspace ws-x not found")
	for _, c := range []struct {
		plane       Plane
		contentType string
		body        string
	}{
		{Control, "application/json", `{"__type":"ResourceNotFoundException","message":"Workspace ws-x not found","resourceId":"ws-x","resourceType":"Workspace"}`},
		{Data, "application/json", `{"status":"error","errorType":"not_found","error":"Workspace ws-x not found"}`},
		{Alertmanager, "application/json", `{"status":"error","errorType":"not_found","error":"Workspace ws-x not found"}`},
		{Write, "text/plain; charset=utf-8", "Workspace ws-x not found\n"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), c.plane, err)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != c.contentType || strings.TrimSpace(w.Body.String()) != strings.TrimSpace(c.body) ||
			w.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
			t.Errorf("%s: %d %q %q %s", c.plane, w.Code, w.Header().Get("Content-Type"), w.Header().Get("X-Amzn-ErrorType"), w.Body)
		}
	}
	// An unexpected error is logged and hidden behind a 500 naming the request.
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(WithRequest(r.Context(), "req-42", nil, nil))
	WriteError(w, r, Control, errString("disk on fire"))
	if w.Code != 500 || strings.Contains(w.Body.String(), "disk on fire") || !strings.Contains(w.Body.String(), "req-42") {
		t.Errorf("an internal error: %d %s", w.Code, w.Body)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestAuthorizeWithoutAnAuthorizerAllowsNothing(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if Allowed(r, "aps:ListWorkspaces", "*") {
		t.Fatal("allowed without an authorizer")
	}
	if e, ok := apierr.As(Authorize(r, "aps:ListWorkspaces", "*")); !ok || e.Status != 403 {
		t.Fatalf("Authorize without an authorizer: %v", e)
	}
}
