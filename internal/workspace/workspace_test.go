package workspace

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv/fakeclock"
)

func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) }

// fakeStorage stands in for tenantdb: it records what the service asks of
// the sample storage and fails where told to.
type fakeStorage struct {
	mu        sync.Mutex
	open      map[string]time.Duration
	dropped   []string
	failOpen  map[string]bool
	failDrop  map[string]bool
	retention map[string]time.Duration
}

func newFakeStorage() *fakeStorage {
	return &fakeStorage{open: map[string]time.Duration{}, failOpen: map[string]bool{}, failDrop: map[string]bool{},
		retention: map[string]time.Duration{}}
}

func (f *fakeStorage) Open(ws string, retention time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failOpen[ws] || f.failOpen["*"] {
		return errors.New("disk full")
	}
	f.open[ws] = retention
	return nil
}

func (f *fakeStorage) Drop(ws string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failDrop[ws] {
		return errors.New("device busy")
	}
	delete(f.open, ws)
	f.dropped = append(f.dropped, ws)
	return nil
}

func (f *fakeStorage) SetRetention(ws string, retention time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retention[ws] = retention
	return nil
}

func (f *fakeStorage) isOpen(ws string) (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.open[ws]
	return r, ok
}

func (f *fakeStorage) setFailOpen(ws string, fail bool) {
	f.mu.Lock()
	f.failOpen[ws] = fail
	f.mu.Unlock()
}

func (f *fakeStorage) setFailDrop(ws string, fail bool) {
	f.mu.Lock()
	f.failDrop[ws] = fail
	f.mu.Unlock()
}

// recorder is a Listener noting what it was told.
type recorder struct {
	mu        sync.Mutex
	activated []string
	deleted   []string
}

func (r *recorder) WorkspaceActivated(_ context.Context, ws metastore.Workspace) {
	r.mu.Lock()
	r.activated = append(r.activated, ws.ID)
	r.mu.Unlock()
}

func (r *recorder) WorkspaceDeleted(_ context.Context, id string) {
	r.mu.Lock()
	r.deleted = append(r.deleted, id)
	r.mu.Unlock()
}

func (r *recorder) events() (activated, deleted []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.activated...), append([]string(nil), r.deleted...)
}

func openStore(t *testing.T) *metastore.DB {
	t.Helper()
	db, err := metastore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type fixture struct {
	svc     *Service
	db      *metastore.DB
	storage *fakeStorage
	clock   *fakeclock.Clock
	events  *recorder
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return newFixtureOn(t, openStore(t), newClock(), opts)
}

// newFixtureOn builds a service on an existing store, as a second node
// sharing the metadata database would be.
func newFixtureOn(t *testing.T, db *metastore.DB, c *fakeclock.Clock, opts Options) *fixture {
	t.Helper()
	if opts.AccountID == "" {
		opts.AccountID, opts.Region, opts.ExternalURL = "123456789012", "us-east-1", "https://kansoku.example"
	}
	f := &fixture{db: db, storage: newFakeStorage(), clock: c, events: &recorder{}}
	f.svc = New(opts, db, f.storage)
	f.svc.now = c.Now
	f.svc.AddListener(f.events)
	return f
}

func (f *fixture) create(t *testing.T, in CreateInput) Description {
	t.Helper()
	d, err := f.svc.Create(context.Background(), in)
	if err != nil {
		t.Fatalf("create %+v: %v", in, err)
	}
	return d
}

func (f *fixture) reconcile(t *testing.T) {
	t.Helper()
	if err := f.svc.reconcile(context.Background(), false); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) status(t *testing.T, id string) string {
	t.Helper()
	w, err := f.db.GetWorkspace(context.Background(), id)
	if errors.Is(err, metastore.ErrNotFound) {
		return "gone"
	}
	if err != nil {
		t.Fatal(err)
	}
	return w.Status
}

func ptr(s string) *string { return &s }

// wantAPIErr checks that err is an AWS-style error of the given type and
// HTTP status, and returns it.
func wantAPIErr(t *testing.T, err error, typ string, status int) *apierr.Error {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok {
		t.Fatalf("want %s (%d), got %v", typ, status, err)
	}
	if e.Type != typ || e.Status != status {
		t.Fatalf("want %s (%d), got %s (%d): %s", typ, status, e.Type, e.Status, e.Message)
	}
	return e
}

func TestValidateID(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"ws-0b7a1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d", true},
		{"a", true},
		{"A.b_c-9", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{strings.Repeat("a", 65), false},
		{"-leading-dash", false},
		{".leading-dot", false},
		{"has/slash", false},
		{"has space", false},
		{"ünïcode", false},
	} {
		err := ValidateID(c.id)
		if c.ok {
			if err != nil {
				t.Errorf("%q refused: %v", c.id, err)
			}
			continue
		}
		e := wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)
		if len(e.FieldList) != 1 || e.FieldList[0].Name != "workspaceId" {
			t.Errorf("%q: field list %+v, want workspaceId", c.id, e.FieldList)
		}
	}
}

func TestValidateClientToken(t *testing.T) {
	for _, c := range []struct {
		token string
		ok    bool
	}{
		{"", true}, // no token: no idempotency
		{"!", true},
		{"~", true},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
		{"with space", false},
		{"tab\t", false},
		{"del\x7f", false},
		{"é", false},
	} {
		err := ValidateClientToken(c.token)
		if c.ok != (err == nil) {
			t.Errorf("%q: err %v, want ok=%v", c.token, err, c.ok)
		}
		if err != nil {
			wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)
		}
	}
}

// TestCreateRefusesBadInputWithoutStoring: an invalid alias, client token
// or tag is a 400 and no workspace is recorded.
func TestCreateRefusesBadInputWithoutStoring(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	for name, in := range map[string]CreateInput{
		"blank alias":       {Alias: ptr("   ")},
		"bidi alias":        {Alias: ptr("abc\u202edef")},
		"long token":        {ClientToken: strings.Repeat("t", 65)},
		"token with space":  {ClientToken: "a b"},
		"reserved tag":      {Tags: map[string]string{"aws:owner": "x"}},
		"empty tag key":     {Tags: map[string]string{"": "x"}},
		"oversize tag val":  {Tags: map[string]string{"k": strings.Repeat("v", 257)}},
		"bad tag val chars": {Tags: map[string]string{"k": "semi;colon"}},
	} {
		_, err := f.svc.Create(ctx, in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if e, ok := apierr.As(err); !ok || e.Status != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400", name, err)
		}
	}
	if n, err := f.db.CountWorkspaces(ctx); err != nil || n != 0 {
		t.Fatalf("%d workspaces stored after refused creations (%v)", n, err)
	}
}

// TestCreateThenActivate: a new workspace is CREATING with its ARN,
// endpoint and default retention; the reconciler opens its storage, makes
// it ACTIVE and tells the listeners.
func TestCreateThenActivate(t *testing.T) {
	f := newFixture(t, Options{})
	created := f.clock.Now()
	d := f.create(t, CreateInput{Alias: ptr("  prod  "), Tags: map[string]string{"team": "a"}})
	if d.Status != metastore.WorkspaceCreating || d.Alias != "prod" || d.RetentionDays != DefaultRetentionDays {
		t.Fatalf("created: %+v", d.Workspace)
	}
	if !strings.HasPrefix(d.ID, "ws-") || ValidateID(d.ID) != nil {
		t.Errorf("id %q", d.ID)
	}
	if want := "arn:aws:aps:us-east-1:123456789012:workspace/" + d.ID; d.ARN != want {
		t.Errorf("ARN %q, want %q", d.ARN, want)
	}
	if want := "https://kansoku.example/workspaces/" + d.ID + "/"; d.PrometheusEndpoint != want {
		t.Errorf("endpoint %q, want %q", d.PrometheusEndpoint, want)
	}
	if !d.CreatedAt.Equal(created) || d.Tags["team"] != "a" {
		t.Errorf("createdAt %s tags %v", d.CreatedAt, d.Tags)
	}
	if _, ok := f.svc.Active(d.ID); ok {
		t.Fatal("a CREATING workspace is active for the data plane")
	}
	select {
	case <-f.svc.kick:
	default:
		t.Error("Create did not kick the reconciler")
	}

	f.clock.Advance(time.Second)
	f.reconcile(t)
	if r, ok := f.storage.isOpen(d.ID); !ok || r != DefaultRetentionDays*24*time.Hour {
		t.Fatalf("storage open=%v retention=%s", ok, r)
	}
	w, err := f.db.GetWorkspace(context.Background(), d.ID)
	if err != nil || w.Status != metastore.WorkspaceActive || !w.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("after reconcile: %+v %v", w, err)
	}
	if a, ok := f.svc.Active(d.ID); !ok || a.Status != metastore.WorkspaceActive {
		t.Fatalf("not active in memory: %+v %v", a, ok)
	}
	if activated, _ := f.events.events(); len(activated) != 1 || activated[0] != d.ID {
		t.Fatalf("listener told %v", activated)
	}
	// Another pass does not activate it again.
	f.reconcile(t)
	if activated, _ := f.events.events(); len(activated) != 1 {
		t.Fatalf("activated again: %v", activated)
	}

	got, err := f.svc.Describe(context.Background(), d.ID)
	if err != nil || got.Tags["team"] != "a" || got.Status != metastore.WorkspaceActive || got.PrometheusEndpoint != d.PrometheusEndpoint {
		t.Fatalf("describe: %+v %v", got, err)
	}
}

// TestStorageFailureMeansCreationFailed: a workspace whose storage cannot
// be created ends CREATION_FAILED, is never active, and may be deleted.
func TestStorageFailureMeansCreationFailed(t *testing.T) {
	f := newFixture(t, Options{})
	d := f.create(t, CreateInput{})
	f.storage.setFailOpen(d.ID, true)
	f.reconcile(t)
	if st := f.status(t, d.ID); st != metastore.WorkspaceCreationFailed {
		t.Fatalf("status %s, want CREATION_FAILED", st)
	}
	if _, ok := f.svc.Active(d.ID); ok {
		t.Fatal("failed workspace is active")
	}
	if activated, _ := f.events.events(); len(activated) != 0 {
		t.Fatalf("listeners told of a failed workspace: %v", activated)
	}
	// A later pass does not retry it as if it were CREATING.
	f.storage.setFailOpen(d.ID, false)
	f.reconcile(t)
	if st := f.status(t, d.ID); st != metastore.WorkspaceCreationFailed {
		t.Fatalf("status %s after a second pass", st)
	}
	if err := f.svc.Delete(context.Background(), d.ID, ""); err != nil {
		t.Fatalf("delete a CREATION_FAILED workspace: %v", err)
	}
	f.reconcile(t)
	if st := f.status(t, d.ID); st != "gone" {
		t.Fatalf("status %s after deletion", st)
	}
}

// TestClientTokenIdempotency: a CreateWorkspace retried with its client
// token returns the first workspace; the same token with other parameters
// is a 409; without a token every call creates one.
func TestClientTokenIdempotency(t *testing.T) {
	tags := map[string]string{"env": "prod"}
	for _, c := range []struct {
		name         string
		first, again CreateInput
		same         bool   // the retry returns the first workspace
		wantErr      string // or fails with this error type
	}{
		{"same token and parameters", CreateInput{ClientToken: "t1", Alias: ptr("a"), Tags: tags}, CreateInput{ClientToken: "t1", Alias: ptr("a"), Tags: tags}, true, ""},
		{"alias compared after trimming", CreateInput{ClientToken: "t1", Alias: ptr("a")}, CreateInput{ClientToken: "t1", Alias: ptr("  a ")}, true, ""},
		{"no alias both times", CreateInput{ClientToken: "t1"}, CreateInput{ClientToken: "t1"}, true, ""},
		{"other alias", CreateInput{ClientToken: "t1", Alias: ptr("a")}, CreateInput{ClientToken: "t1", Alias: ptr("b")}, false, "ConflictException"},
		{"alias dropped", CreateInput{ClientToken: "t1", Alias: ptr("a")}, CreateInput{ClientToken: "t1"}, false, "ConflictException"},
		{"other tag value", CreateInput{ClientToken: "t1", Tags: tags}, CreateInput{ClientToken: "t1", Tags: map[string]string{"env": "dev"}}, false, "ConflictException"},
		{"extra tag", CreateInput{ClientToken: "t1", Tags: tags}, CreateInput{ClientToken: "t1", Tags: map[string]string{"env": "prod", "x": "y"}}, false, "ConflictException"},
		{"other token", CreateInput{ClientToken: "t1"}, CreateInput{ClientToken: "t2"}, false, ""},
		{"no token", CreateInput{Alias: ptr("a")}, CreateInput{Alias: ptr("a")}, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ctx := context.Background()
			first := f.create(t, c.first)
			f.clock.Advance(time.Minute)
			again, err := f.svc.Create(ctx, c.again)
			n, _ := f.db.CountWorkspaces(ctx)
			switch {
			case c.wantErr != "":
				e := wantAPIErr(t, err, c.wantErr, http.StatusConflict)
				if e.ResourceID != first.ID || n != 1 {
					t.Fatalf("conflict names %q (want %s); %d workspaces", e.ResourceID, first.ID, n)
				}
			case c.same:
				if err != nil || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || n != 1 {
					t.Fatalf("retry: %+v %v; %d workspaces (first %s)", again.Workspace, err, n, first.ID)
				}
				if len(again.Tags) != len(c.first.Tags) {
					t.Fatalf("retry tags %v, want %v", again.Tags, c.first.Tags)
				}
			default:
				if err != nil || again.ID == first.ID || n != 2 {
					t.Fatalf("second create: %+v %v; %d workspaces", again.Workspace, err, n)
				}
			}
		})
	}
}

// TestWorkspaceQuota: creations beyond MaxWorkspaces are a 402
// ServiceQuotaExceededException; DELETING workspaces still count until
// they are gone; a retry with a client token is answered even at the quota.
func TestWorkspaceQuota(t *testing.T) {
	f := newFixture(t, Options{MaxWorkspaces: 2})
	ctx := context.Background()
	a := f.create(t, CreateInput{ClientToken: "first"})
	f.create(t, CreateInput{})
	_, err := f.svc.Create(ctx, CreateInput{})
	e := wantAPIErr(t, err, "ServiceQuotaExceededException", http.StatusPaymentRequired)
	if e.QuotaCode != "L-BFD4EA5B" || e.ServiceCode != "aps" || e.ResourceType != ResourceType {
		t.Errorf("quota error members: %+v", e)
	}
	if d, err := f.svc.Create(ctx, CreateInput{ClientToken: "first"}); err != nil || d.ID != a.ID {
		t.Fatalf("idempotent retry at the quota: %+v %v", d.Workspace, err)
	}

	f.reconcile(t)
	if err := f.svc.Delete(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, CreateInput{}); err == nil {
		t.Fatal("a DELETING workspace freed its quota before it was gone")
	}
	f.reconcile(t) // finishes the deletion
	if _, err := f.svc.Create(ctx, CreateInput{}); err != nil {
		t.Fatalf("after the deletion finished: %v", err)
	}
}

func TestDefaultsAndQuotaFromOptions(t *testing.T) {
	f := newFixture(t, Options{RetentionDays: 30})
	if d := f.create(t, CreateInput{}); d.RetentionDays != 30 {
		t.Errorf("retention %d, want the configured 30", d.RetentionDays)
	}
	if f.svc.opts.MaxWorkspaces != DefaultMaxWorkspaces || f.svc.opts.ResyncInterval != 30*time.Second {
		t.Errorf("defaults: %+v", f.svc.opts)
	}
}

// TestListPagination: pages in creation order of at most maxResults, each
// with the token of the next until the last; alias prefixes filter
// literally; bad inputs are 400s.
func TestListPagination(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	var want []string
	for _, alias := range []string{"team-a", "team-b", "other", "team_c", "100%"} {
		want = append(want, f.create(t, CreateInput{Alias: ptr(alias), Tags: map[string]string{"alias": strings.ReplaceAll(alias, "%", "pct")}}).ID)
		f.clock.Advance(time.Second)
	}
	var got []string
	next, pages := "", 0
	for {
		page, tok, err := f.svc.List(ctx, ListInput{MaxResults: 2, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page) > 2 {
			t.Fatalf("page of %d with maxResults 2", len(page))
		}
		for _, d := range page {
			got = append(got, d.ID)
			if d.Tags["alias"] == "" || d.PrometheusEndpoint == "" {
				t.Errorf("listed workspace lacks tags or endpoint: %+v", d)
			}
		}
		if tok == "" {
			break
		}
		next = tok
	}
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%d pages %v, want 3 pages %v", pages, got, want)
	}
	all, tok, err := f.svc.List(ctx, ListInput{})
	if err != nil || len(all) != 5 || tok != "" {
		t.Fatalf("default page: %d %q %v", len(all), tok, err)
	}

	for prefix, n := range map[string]int{"team-": 2, "team": 3, "team_": 1, "100%": 1, "%": 0, "_": 0, "nope": 0} {
		page, _, err := f.svc.List(ctx, ListInput{AliasPrefix: prefix})
		if err != nil || len(page) != n {
			t.Errorf("alias prefix %q: %d workspaces (%v), want %d", prefix, len(page), err, n)
		}
	}

	for name, in := range map[string]ListInput{
		"maxResults 0 is the default, -1 is not": {MaxResults: -1},
		"maxResults over 1000":                   {MaxResults: 1001},
		"alias prefix over 100 characters":       {AliasPrefix: strings.Repeat("é", 101)},
		"forged token":                           {NextToken: "not-a-token!"},
		"token without an id":                    {NextToken: metastore.EncodePageToken(1, "")},
	} {
		_, _, err := f.svc.List(ctx, in)
		e := wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)
		if e.Reason != apierr.ReasonFieldValidation {
			t.Errorf("%s: reason %q", name, e.Reason)
		}
	}
	if page, _, err := f.svc.List(ctx, ListInput{MaxResults: 1000, AliasPrefix: strings.Repeat("é", 100)}); err != nil || len(page) != 0 {
		t.Errorf("bounds themselves refused: %v", err)
	}
}

// TestUpdateAlias: only an ACTIVE workspace may be renamed; a nil alias
// removes it; the change is visible to the data plane at once.
func TestUpdateAlias(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	d := f.create(t, CreateInput{Alias: ptr("old")})
	err := f.svc.UpdateAlias(ctx, d.ID, ptr("new"), "")
	if e := wantAPIErr(t, err, "ConflictException", http.StatusConflict); !strings.Contains(e.Message, "CREATING") {
		t.Errorf("message %q does not say why", e.Message)
	}
	f.reconcile(t)
	f.clock.Advance(time.Hour)
	if err := f.svc.UpdateAlias(ctx, d.ID, ptr(" new "), "tok"); err != nil {
		t.Fatal(err)
	}
	w, _ := f.db.GetWorkspace(ctx, d.ID)
	if a, _ := f.svc.Active(d.ID); w.Alias != "new" || a.Alias != "new" || !w.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("stored %+v, in memory %q", w, a.Alias)
	}
	if err := f.svc.UpdateAlias(ctx, d.ID, nil, ""); err != nil {
		t.Fatal(err)
	}
	if w, _ := f.db.GetWorkspace(ctx, d.ID); w.Alias != "" {
		t.Fatalf("nil alias kept %q", w.Alias)
	}
	for name, c := range map[string]struct {
		id, token string
		alias     *string
		typ       string
		status    int
	}{
		"blank alias":   {d.ID, "", ptr(" "), "ValidationException", 400},
		"bad token":     {d.ID, "a b", ptr("x"), "ValidationException", 400},
		"bad id":        {"no/such", "", ptr("x"), "ValidationException", 400},
		"unknown id":    {"ws-unknown", "", ptr("x"), "ResourceNotFoundException", 404},
		"control chars": {d.ID, "", ptr("a\x07b"), "ValidationException", 400},
	} {
		t.Run(name, func(t *testing.T) {
			wantAPIErr(t, f.svc.UpdateAlias(ctx, c.id, c.alias, c.token), c.typ, c.status)
		})
	}
}

// TestSetRetention: 1 to 1095 days, ACTIVE workspaces only, applied to the
// storage and to the in-memory workspace.
func TestSetRetention(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	d := f.create(t, CreateInput{})
	wantAPIErr(t, f.svc.SetRetention(ctx, d.ID, 30), "ConflictException", http.StatusConflict)
	f.reconcile(t)
	for _, days := range []int{0, -1, 1096} {
		wantAPIErr(t, f.svc.SetRetention(ctx, d.ID, days), "ValidationException", http.StatusBadRequest)
	}
	wantAPIErr(t, f.svc.SetRetention(ctx, "ws-nope", 30), "ResourceNotFoundException", http.StatusNotFound)
	for _, days := range []int{1, 1095, 42} {
		if err := f.svc.SetRetention(ctx, d.ID, days); err != nil {
			t.Fatalf("%d days: %v", days, err)
		}
		f.storage.mu.Lock()
		applied := f.storage.retention[d.ID]
		f.storage.mu.Unlock()
		w, _ := f.db.GetWorkspace(ctx, d.ID)
		a, _ := f.svc.Active(d.ID)
		if applied != time.Duration(days)*24*time.Hour || w.RetentionDays != days || a.RetentionDays != days {
			t.Fatalf("%d days: storage %s, stored %d, in memory %d", days, applied, w.RetentionDays, a.RetentionDays)
		}
	}
}

// TestDeleteLifecycle: CREATING cannot be deleted; deleting an ACTIVE
// workspace takes it from the data plane at once, is idempotent, and the
// reconciler drops its data, metadata and tags (retrying a failed drop).
func TestDeleteLifecycle(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	d := f.create(t, CreateInput{Tags: map[string]string{"k": "v"}})
	wantAPIErr(t, f.svc.Delete(ctx, d.ID, ""), "ConflictException", http.StatusConflict)
	f.reconcile(t)
	wantAPIErr(t, f.svc.Delete(ctx, d.ID, "bad token"), "ValidationException", http.StatusBadRequest)
	wantAPIErr(t, f.svc.Delete(ctx, "ws-nope", ""), "ResourceNotFoundException", http.StatusNotFound)

	if err := f.svc.Delete(ctx, d.ID, "tok"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.Active(d.ID); ok {
		t.Fatal("a DELETING workspace is still served")
	}
	if st := f.status(t, d.ID); st != metastore.WorkspaceDeleting {
		t.Fatalf("status %s", st)
	}
	if err := f.svc.Delete(ctx, d.ID, "tok"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := f.svc.UpdateAlias(ctx, d.ID, ptr("x"), ""); err == nil {
		t.Fatal("renamed a DELETING workspace")
	}

	f.storage.setFailDrop(d.ID, true)
	f.reconcile(t)
	if st := f.status(t, d.ID); st != metastore.WorkspaceDeleting {
		t.Fatalf("status %s after a failed drop, want DELETING (to retry)", st)
	}
	f.storage.setFailDrop(d.ID, false)
	f.reconcile(t)
	if st := f.status(t, d.ID); st != "gone" {
		t.Fatalf("status %s after the drop", st)
	}
	if _, ok := f.storage.isOpen(d.ID); ok {
		t.Fatal("storage still open")
	}
	if tags, err := f.db.Tags(ctx, d.ARN); err != nil || len(tags) != 0 {
		t.Fatalf("tags left behind: %v %v", tags, err)
	}
	if _, deleted := f.events.events(); len(deleted) == 0 || deleted[len(deleted)-1] != d.ID {
		t.Fatalf("listeners told %v", deleted)
	}
	_, err := f.svc.Get(ctx, d.ID)
	if e := wantAPIErr(t, err, "ResourceNotFoundException", http.StatusNotFound); e.ResourceID != d.ID || e.ResourceType != ResourceType {
		t.Errorf("not-found members: %+v", e)
	}
}

// TestOtherNodesChanges: a resync picks up what another node did: an
// alias changed, a workspace created, a workspace deleted.
func TestOtherNodesChanges(t *testing.T) {
	a := newFixture(t, Options{})
	b := newFixtureOn(t, a.db, a.clock, Options{})
	ctx := context.Background()
	d := a.create(t, CreateInput{Alias: ptr("one")})
	a.reconcile(t)
	b.reconcile(t)
	if _, ok := b.svc.Active(d.ID); !ok {
		t.Fatal("node b does not serve the workspace node a created")
	}
	if _, ok := b.storage.isOpen(d.ID); !ok {
		t.Fatal("node b did not open its storage")
	}
	if err := a.svc.UpdateAlias(ctx, d.ID, ptr("two"), ""); err != nil {
		t.Fatal(err)
	}
	b.reconcile(t)
	if w, _ := b.svc.Active(d.ID); w.Alias != "two" {
		t.Fatalf("node b's alias %q after resync", w.Alias)
	}
	if err := a.svc.Delete(ctx, d.ID, ""); err != nil {
		t.Fatal(err)
	}
	a.reconcile(t)
	b.reconcile(t)
	if _, ok := b.svc.Active(d.ID); ok || len(b.svc.ActiveIDs()) != 0 {
		t.Fatal("node b still serves a workspace node a deleted")
	}
	if _, deleted := b.events.events(); len(deleted) != 1 || deleted[0] != d.ID {
		t.Fatalf("node b's listeners told %v", deleted)
	}
}

// TestRunOpensActiveWorkspacesFirst: Run opens every ACTIVE workspace
// before Ready; one that cannot be opened fails the start.
func TestRunOpensActiveWorkspacesFirst(t *testing.T) {
	t.Run("ready after opening", func(t *testing.T) {
		f := newFixture(t, Options{})
		d := f.create(t, CreateInput{})
		f.reconcile(t)
		// A restarted node: same store, nothing open yet.
		g := newFixtureOn(t, f.db, f.clock, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.svc.Run(ctx) }()
		select {
		case <-g.svc.Ready():
		case err := <-done:
			t.Fatalf("Run ended before Ready: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("never ready")
		}
		if _, ok := g.storage.isOpen(d.ID); !ok {
			t.Fatal("ready before the ACTIVE workspace's storage was opened")
		}
		if _, ok := g.svc.Active(d.ID); !ok {
			t.Fatal("not active after Ready")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	})
	t.Run("start fails", func(t *testing.T) {
		f := newFixture(t, Options{})
		f.create(t, CreateInput{})
		f.reconcile(t)
		g := newFixtureOn(t, f.db, f.clock, Options{})
		g.storage.setFailOpen("*", true)
		if err := g.svc.Run(context.Background()); err == nil {
			t.Fatal("Run started although an ACTIVE workspace's storage cannot open")
		}
		select {
		case <-g.svc.Ready():
			t.Fatal("Ready closed after a failed start")
		default:
		}
	})
	t.Run("kick reconciles", func(t *testing.T) {
		f := newFixture(t, Options{ResyncInterval: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.svc.Run(ctx) }()
		<-f.svc.Ready()
		d := f.create(t, CreateInput{}) // kicks: no need to wait for the hourly resync
		deadline := time.Now().Add(10 * time.Second)
		for f.status(t, d.ID) != metastore.WorkspaceActive {
			if time.Now().After(deadline) {
				t.Fatal("the kicked reconciler did not activate the workspace")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		<-done
	})
}
