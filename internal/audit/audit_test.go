package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	in := map[string]any{
		"clientToken": "c5ced3a3",
		"accessKey":   map[string]any{"accessKeyId": "AKIA1", "secretAccessKey": "s3cret"},
		"apiToken":    map[string]any{"id": "abc", "token": "kst_abc_def"},
		"data":        "YWxlcnRtYW5hZ2VyX2NvbmZpZzo=",
		"list":        []any{map[string]any{"password": "p"}},
		"long":        strings.Repeat("x", 10000),
		// CreateScraper's configuration, which may hold a bearer credential.
		"scrapeConfiguration": map[string]any{"configurationBlob": "Z2xvYmFsOiB7fQ=="},
	}
	out := Redact(in).(map[string]any)
	b, _ := json.Marshal(out)
	for _, secret := range []string{"s3cret", "kst_abc_def", "YWxlcnRtYW5hZ2VyX2NvbmZpZzo", `"p"`, "Z2xvYmFsOiB7fQ"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("secret %q survived: %s", secret, b)
		}
	}
	for _, kept := range []string{"c5ced3a3", "AKIA1", `"id":"abc"`, Hidden, `"sizeBytes":28`, `"sizeBytes":16`} {
		if !strings.Contains(string(b), kept) {
			t.Fatalf("%q missing: %s", kept, b)
		}
	}
	if len(out["long"].(string)) > maxString+20 {
		t.Fatal("long strings are not capped")
	}
}

func TestNewEvent(t *testing.T) {
	e := New("aps:CreateWorkspace", time.Now())
	if e.EventSource != "aps.amazonaws.com" || e.EventName != "CreateWorkspace" || e.ReadOnly || e.EventID == "" {
		t.Fatalf("%+v", e)
	}
	if e := New("aps:ListWorkspaces", time.Now()); !e.ReadOnly {
		t.Fatal("List* is read-only")
	}
	if e := New("kansoku:CreateAPIToken", time.Now()); e.EventSource != "kansoku" {
		t.Fatal(e.EventSource)
	}
}

func TestFailureBudget(t *testing.T) {
	r := &Recorder{}
	now := time.Now()
	allowed := 0
	for i := 0; i < 500; i++ {
		if r.allowFailure(now) {
			allowed++
		}
	}
	if allowed != maxFailuresPerSecond {
		t.Fatalf("allowed %d failures in one second", allowed)
	}
	if !r.allowFailure(now.Add(time.Second)) {
		t.Fatal("the budget must refill the next second")
	}
}
