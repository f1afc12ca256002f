package auth

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSigV4Header: any Authorization header (and date) is refused or
// accepted without a panic, and accepted only when it carries the
// signature a correct signer computes.
func FuzzSigV4Header(f *testing.F) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	v := &SigV4Verifier{Region: "us-east-1", Service: "aps", Now: func() time.Time { return now }, Secret: staticSecrets(map[string]string{"AKIAGOOD": "good-secret"})}
	good := httptest.NewRequest("POST", "http://kansoku.example/workspaces/ws-1/api/v1/remote_write", strings.NewReader("payload"))
	signWithSDK(f, good, []byte("payload"), "AKIAGOOD", "good-secret", "aps", "us-east-1", now)
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-Amz-Date"), "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAGOOD/20261121/us-east-1/aps/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261121T100000Z", "UNSIGNED-PAYLOAD")
	f.Add("AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=", "x", "e3b0")
	f.Fuzz(func(t *testing.T, authz, date, contentSHA string) {
		r := httptest.NewRequest("POST", "http://kansoku.example/workspaces/ws-1/api/v1/remote_write", strings.NewReader("payload"))
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		if contentSHA != "" {
			r.Header.Set("X-Amz-Content-Sha256", contentSHA)
		}
		_, err := v.Verify(context.Background(), r, []byte("payload"))
		if err == nil && (authz != good.Header.Get("Authorization") || date != good.Header.Get("X-Amz-Date")) {
			// Another header can verify only if it signs the same request
			// with the same key: it must name the same signature.
			if !strings.Contains(authz, "Signature="+sigOf(good.Header.Get("Authorization"))) {
				t.Fatalf("accepted a header with another signature: %q", authz)
			}
		}
	})
}

func sigOf(h string) string {
	i := strings.Index(h, "Signature=")
	return h[i+len("Signature="):]
}
