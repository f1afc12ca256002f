package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAWSCLIControlPlaneThrottling: AMP's control-plane quota (here 1 a
// second, bursts of 2) answers ThrottlingException beyond it, which the
// AWS CLI v1 prints when told not to retry, and retries with backoff
// until it succeeds by default.
func TestAWSCLIControlPlaneThrottling(t *testing.T) {
	s := startServer(t, "", "--control-plane.rate=1", "--control-plane.burst=2")
	c := cli{t: t, bin: awsV1(t), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var ws struct{ WorkspaceID string }
	c.ok(&ws, "amp", "create-workspace", "--alias", "throttled")
	id := ws.WorkspaceID

	// Another client of the account keeps the bucket empty.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	drain := func() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_ = s.Admin.JSON(ctx, "GET", "/workspaces", nil, nil, nil)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	drain()
	defer func() { cancel(); wg.Wait() }()

	// Without retries the CLI prints the ThrottlingException (a request may
	// slip into the instant a token comes back: three tries).
	single := c.with("AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1")
	var out string
	for i := 0; i < 3; i++ {
		o, rc := single.run("amp", "describe-workspace", "--workspace-id", id)
		if rc != 0 && strings.Contains(o, "(ThrottlingException)") && strings.Contains(o, "Rate exceeded") {
			out = o
			break
		}
	}
	if out == "" {
		t.Fatal("a describe-workspace beyond the quota was never throttled")
	}

	// With its default retries the CLI is throttled first, then succeeds
	// once the other client stops and the bucket refills.
	before := throttledDescribes(t, s)
	type result struct {
		out string
		rc  int
	}
	res := make(chan result, 1)
	go func() {
		o, rc := c.run("amp", "describe-workspace", "--workspace-id", id)
		res <- result{o, rc}
	}()
	waitFor(t, 60*time.Second, "the CLI's first attempt throttled", func() bool { return throttledDescribes(t, s) > before })
	cancel()
	wg.Wait()
	r := <-res
	if r.rc != 0 {
		t.Fatalf("describe-workspace with retries: %d\n%s", r.rc, r.out)
	}
	var d struct{ Workspace struct{ WorkspaceID string } }
	if err := json.Unmarshal([]byte(r.out), &d); err != nil || d.Workspace.WorkspaceID != id {
		t.Fatalf("describe-workspace printed %s (%v)", r.out, err)
	}
}

var describe429 = regexp.MustCompile(`kansoku_http_requests_total\{code="429",method="GET",route="DescribeWorkspace"\} (\d+)`)

// throttledDescribes is how many DescribeWorkspace calls were throttled.
func throttledDescribes(t *testing.T, s *server) int {
	t.Helper()
	_, b, err := s.Admin.Raw(context.Background(), "GET", "/metrics", nil, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := describe429.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
