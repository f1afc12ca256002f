package cortex

import (
	"errors"
	"net/http"
	"testing"

	"github.com/prometheus/prometheus/storage"
)

func TestClientMessage(t *testing.T) {
	in := `maxFailure (quorum) on a given error family, addr=127.0.0.1:19095 state=ACTIVE zone=, rpc error: code = Code(400) desc = user=ws-a: err: out of order sample. timestamp=2026-12-06T03:03:05.096Z, series={__name__="up"}`
	want := `out of order sample. timestamp=2026-12-06T03:03:05.096Z, series={__name__="up"}`
	if got := clientMessage(in); got != want {
		t.Fatalf("got %q", got)
	}
	rate := "ingestion rate limit (170000) exceeded while adding 10 samples and 0 metadata"
	if got := clientMessage(rate + "\n"); got != rate {
		t.Fatalf("got %q", got)
	}
}

func TestPushErrorReasons(t *testing.T) {
	for _, tc := range []struct {
		status int
		msg    string
		reason string
		is     error
	}{
		{400, "out of order sample. timestamp=...", "sample-out-of-order", storage.ErrOutOfOrderSample},
		{400, "duplicate sample for timestamp", "new-value-for-timestamp", storage.ErrDuplicateSampleForTimestamp},
		{400, "out of bounds. timestamp=...", "greater_than_max_sample_age", storage.ErrOutOfBounds},
		{400, "per-user series limit of 10 exceeded", "per_user_series_limit", nil},
		{400, "per-metric series limit of 10 exceeded", "per_metric_series_limit", nil},
		{http.StatusTooManyRequests, "ingestion rate limit (10) exceeded while adding 20 samples", "rate_limited", nil},
	} {
		e := &PushError{Status: tc.status, Message: tc.msg}
		if e.Reason() != tc.reason {
			t.Errorf("%q: reason %q, want %q", tc.msg, e.Reason(), tc.reason)
		}
		if tc.is != nil && !errors.Is(e, tc.is) {
			t.Errorf("%q is not %v", tc.msg, tc.is)
		}
	}
}
