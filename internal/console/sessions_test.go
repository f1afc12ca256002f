package console

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv/fakeclock"
)

var ctx = context.Background()

// keys is the access-key store sign-in checks secrets against.
type keys map[string]string // access key id -> secret, all alice's

var alice = metastore.Principal{ID: "AIDAALICE0000000000", Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice"}

func (k keys) SessionCredentials(_ context.Context, id, _ string) (*auth.Identity, string, error) {
	return nil, "", auth.ErrUnknownAccessKey(id)
}

func (k keys) AccessKeySecret(_ context.Context, id string) (auth.Principal, string, error) {
	s, ok := k[id]
	if !ok {
		return auth.Principal{}, "", auth.ErrUnknownAccessKey(id)
	}
	return auth.Principal{ID: alice.ID, Name: alice.Name, ARN: alice.ARN}, s, nil
}

type fixture struct {
	db       *metastore.DB
	clock    *fakeclock.Clock
	sessions *Sessions
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateAccount(ctx, metastore.Account{ID: "123456789012", Region: "us-east-1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePrincipal(ctx, alice); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, clock: fakeclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))}
	f.sessions = NewSessions(db, keys{"AKIAALICE": "alice-secret"}, Options{Now: f.clock.Now})
	return f
}

func (f *fixture) signIn(t *testing.T, ip string) Session {
	t.Helper()
	s, err := f.sessions.SignIn(ctx, SignInInput{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret"}, ip)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantSessionErr(t *testing.T, err error, want string) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, want) {
		t.Fatalf("want a session error saying %q, got %v", want, err)
	}
}

// A session is a cookie "<id>.<secret>" of which the store keeps only the
// secret's hash; it names its user and CSRF token until it ends.
func TestSignInWithAnAccessKey(t *testing.T) {
	f := newFixture(t)
	s := f.signIn(t, "192.0.2.1")
	id, secret, ok := strings.Cut(s.Cookie, ".")
	if !ok || s.Principal.Name != "alice" || s.Method != MethodAccessKey || s.CSRFToken == "" ||
		!s.ExpiresAt.Equal(f.clock.Now().Add(12*time.Hour)) {
		t.Fatalf("session %+v", s)
	}
	rec, err := f.db.GetConsoleSession(ctx, id)
	if err != nil || strings.Contains(string(rec.SecretHash), secret) || string(rec.SecretHash) == secret {
		t.Fatalf("stored session %+v %v", rec, err)
	}
	p, csrf, err := f.sessions.Session(ctx, s.Cookie)
	if err != nil || p.PrincipalName != "alice" || csrf != s.CSRFToken {
		t.Fatalf("Session = %+v %q %v", p, csrf, err)
	}
	_, _, err = f.sessions.Session(ctx, id+".forged")
	wantSessionErr(t, err, "invalid")
	_, _, err = f.sessions.Session(ctx, "no-dot")
	wantSessionErr(t, err, "invalid")

	for _, in := range []SignInInput{
		{AccessKeyID: "AKIAALICE", SecretAccessKey: "wrong"},
		{AccessKeyID: "AKIANOBODY", SecretAccessKey: "alice-secret"},
		{},
	} {
		if _, err := f.sessions.SignIn(ctx, in, "192.0.2.2"); !errors.Is(err, ErrSignIn) {
			t.Errorf("SignIn(%+v) = %v, want ErrSignIn", in, err)
		}
	}
	if err := f.sessions.SignOut(ctx, s.Cookie); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.sessions.Session(ctx, s.Cookie)
	wantSessionErr(t, err, "ended")
}

// A session ends after an hour unused, and after twelve hours however
// much it is used.
func TestSessionLifetime(t *testing.T) {
	f := newFixture(t)
	idle := f.signIn(t, "192.0.2.1")
	f.clock.Advance(time.Hour + time.Second)
	_, _, err := f.sessions.Session(ctx, idle.Cookie)
	wantSessionErr(t, err, "expired")
	if _, err := f.db.GetConsoleSession(ctx, SessionID(idle.Cookie)); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("an expired session stays stored: %v", err)
	}

	busy := f.signIn(t, "192.0.2.1")
	for range 14 { // used every 50 minutes: never idle
		f.clock.Advance(50 * time.Minute)
		if _, _, err := f.sessions.Session(ctx, busy.Cookie); err != nil {
			t.Fatalf("a session in use ended early at %s: %v", f.clock.Now(), err)
		}
	}
	f.clock.Advance(50 * time.Minute) // 12h30 after sign-in
	_, _, err = f.sessions.Session(ctx, busy.Cookie)
	wantSessionErr(t, err, "expired")
}

// Failed sign-ins are throttled per address (10 at once, then one every
// 6 s) and per user; successes cost nothing, and a throttled address is
// refused even with the right secret.
func TestSignInThrottling(t *testing.T) {
	f := newFixture(t)
	bad := SignInInput{AccessKeyID: "AKIAALICE", SecretAccessKey: "wrong"}
	for i := range 10 {
		f.signIn(t, "192.0.2.9")
		if _, err := f.sessions.SignIn(ctx, SignInInput{AccessKeyID: fmt.Sprintf("AKIAOTHER%d", i), SecretAccessKey: "x"}, "192.0.2.9"); !errors.Is(err, ErrSignIn) {
			t.Fatal(err)
		}
	}
	if _, err := f.sessions.SignIn(ctx, SignInInput{AccessKeyID: "AKIAALICE", SecretAccessKey: "alice-secret"}, "192.0.2.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("the 11th attempt from one address after 10 failures: %v", err)
	}
	f.signIn(t, "198.51.100.1") // another address is not throttled
	f.clock.Advance(6 * time.Second)
	f.signIn(t, "192.0.2.9") // one failure's worth has been refilled

	// Per user: failures from many addresses on one key.
	for i := range 20 {
		if _, err := f.sessions.SignIn(ctx, bad, fmt.Sprintf("203.0.113.%d", i)); !errors.Is(err, ErrSignIn) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := f.sessions.SignIn(ctx, bad, "203.0.113.200"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("a key failed from 20 addresses: %v", err)
	}
}

// Passwords: 12 to 256 characters; setting one ends the user's other
// sessions; a user changing their own must give the current one.
func TestConsolePasswords(t *testing.T) {
	if testing.Short() {
		t.Skip("PBKDF2 with 600,000 iterations")
	}
	f := newFixture(t)
	if err := f.sessions.SetPassword(ctx, PasswordChange{User: "alice", Password: "short"}); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if err := f.sessions.SetPassword(ctx, PasswordChange{User: "bob", Password: "long enough password"}); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("a password for nobody: %v", err)
	}
	other := f.signIn(t, "192.0.2.1")
	if err := f.sessions.SetPassword(ctx, PasswordChange{User: "alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.sessions.Session(ctx, other.Cookie)
	wantSessionErr(t, err, "ended")

	mine, err := f.sessions.SignIn(ctx, SignInInput{User: "alice", Password: "correct horse battery"}, "192.0.2.1")
	if err != nil || mine.Method != MethodPassword {
		t.Fatalf("password sign-in: %+v %v", mine, err)
	}
	if _, err := f.sessions.SignIn(ctx, SignInInput{User: "alice", Password: "wrong horse battery"}, "192.0.2.1"); !errors.Is(err, ErrSignIn) {
		t.Fatalf("a wrong password: %v", err)
	}
	second := f.signIn(t, "192.0.2.1")
	self := PasswordChange{User: "alice", Password: "a brand new passphrase", Self: true, Current: "not it", KeepSession: SessionID(mine.Cookie)}
	if err := f.sessions.SetPassword(ctx, self); !errors.Is(err, ErrCurrentPassword) {
		t.Fatalf("changing one's own password with a wrong current one: %v", err)
	}
	self.Current = "correct horse battery"
	if err := f.sessions.SetPassword(ctx, self); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.sessions.Session(ctx, mine.Cookie); err != nil {
		t.Fatalf("the changer's own session ended: %v", err)
	}
	_, _, err = f.sessions.Session(ctx, second.Cookie)
	wantSessionErr(t, err, "ended")
}

func TestDashboardRules(t *testing.T) {
	f := newFixture(t)
	if err := f.db.CreateWorkspace(ctx, metastore.Workspace{ID: "ws-a", ARN: "arn:aws:aps:us-east-1:123456789012:workspace/ws-a",
		Status: metastore.WorkspaceActive, RetentionDays: 150, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d := NewDashboards(f.db)
	d.now = f.clock.Now
	for name, c := range map[string]struct {
		in    Dashboard
		field string
	}{
		"no title":        {Dashboard{Title: "  "}, "title"},
		"bad range":       {Dashboard{Title: "t", TimeRange: "33d"}, "timeRange"},
		"fast refresh":    {Dashboard{Title: "t", Refresh: "1s"}, "refresh"},
		"unknown panel":   {Dashboard{Title: "t", Panels: []Panel{{Type: "pie", Query: "up"}}}, "panels[0].type"},
		"bad PromQL":      {Dashboard{Title: "t", Panels: []Panel{{Type: "line", Query: "rate(up[5m]"}}}, "panels[0].query"},
		"too many panels": {Dashboard{Title: "t", Panels: make([]Panel, maxPanels+1)}, "panels"},
	} {
		_, err := d.Create(ctx, "ws-a", c.in)
		if e, ok := apierr.As(err); !ok || e.Status != 400 || !strings.Contains(e.Message, c.field) {
			t.Errorf("%s: %v, want a validation error on %s", name, err, c.field)
		}
	}
	made, err := d.Create(ctx, "ws-a", Dashboard{Title: " CPU ", Panels: []Panel{{Type: "line", Query: "rate(cpu[5m])"}}})
	if err != nil || made.Title != "CPU" || made.TimeRange != "1h" || made.Version != 1 {
		t.Fatalf("created %+v %v", made, err)
	}
	f.clock.Advance(time.Minute)
	next, err := d.Put(ctx, "ws-a", made.ID, Dashboard{Title: "CPU", TimeRange: "7d", Version: 1})
	if err != nil || next.Version != 2 || next.TimeRange != "7d" || !next.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("put %+v %v", next, err)
	}
	if _, err := d.Put(ctx, "ws-a", made.ID, Dashboard{Title: "stale", Version: 1}); err == nil {
		t.Fatal("a stale version overwrote the dashboard")
	} else if e, _ := apierr.As(err); e == nil || e.Status != 409 {
		t.Fatalf("a stale version: %v", err)
	}
	if _, err := d.Get(ctx, "ws-b", made.ID); err == nil {
		t.Fatal("another workspace reads the dashboard")
	}
	if err := d.Delete(ctx, "ws-a", made.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "ws-a", made.ID); err == nil {
		t.Fatal("deleted twice")
	}
}
