// Package pgtest starts throwaway PostgreSQL servers for tests: a cluster
// initialised into a temporary directory, listening on 127.0.0.1 only (and
// a unix socket in that directory), with fsync off, and one new database
// per test. It runs Debian's PostgreSQL binaries (the postgresql package,
// which scripts/install-test-deps.sh installs); without them a test fails,
// it is never skipped.
//
// One server per test binary is enough: a package declares a Shared and
// lets its TestMain stop it.
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pg.Get(t).NewDatabase(t)
//		...
//	}
//
// Tests run as root in CI, and initdb refuses root: the cluster then
// belongs to the postgres system user the package creates (initdb and
// pg_ctl through runuser, the server started with that user's
// credentials). The server is the test binary's child with a parent-death
// signal, so a test binary that is killed leaves no server behind.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kansoku/kansoku/internal/testenv/freeport"
)

// InstallHint is what a test says when PostgreSQL is not installed.
const InstallHint = "run scripts/install-test-deps.sh (as root) to install Debian's postgresql package"

// Superuser is the cluster's superuser, trusted on loopback.
const Superuser = "postgres"

// Server is a running throwaway PostgreSQL server.
type Server struct {
	dir    string // temporary directory: data/, the socket, postgres.log
	binDir string
	port   int
	owner  *user.User // nil: the current user runs the cluster

	cmd    *exec.Cmd
	exited chan struct{} // closed once the server process is reaped
	n      atomic.Int64  // databases created
}

// BinDir finds PostgreSQL's server binaries: $PG_BINDIR, the newest
// /usr/lib/postgresql/<version>/bin (Debian), or initdb's directory on
// the PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("PG_BINDIR=%s has no initdb: %s", d, InstallHint)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres, pg_ctl) not found under /usr/lib/postgresql/*/bin or on the PATH: %s", InstallHint)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initialises a cluster in a new temporary directory and starts its
// server on a free loopback port. Stop removes both.
func Start(ctx context.Context) (_ *Server, err error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{binDir: binDir}
	if os.Geteuid() == 0 {
		if s.owner, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("tests run as root and initdb refuses root, but there is no postgres user to run the cluster (%w): %s", err, InstallHint)
		}
	}
	if s.dir, err = os.MkdirTemp("", "kansoku-pgtest-"); err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(s.dir)
		}
	}()
	if s.owner != nil {
		uid, _ := strconv.Atoi(s.owner.Uid)
		gid, _ := strconv.Atoi(s.owner.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("give %s to the postgres user: %w", s.dir, err)
		}
		if err := exec.CommandContext(ctx, "runuser", "-u", s.owner.Username, "--", "test", "-w", s.dir).Run(); err != nil {
			return nil, fmt.Errorf("the postgres user cannot reach %s (%w): set TMPDIR to a directory whose parents it may traverse, such as /tmp", s.dir, err)
		}
	}
	initdb := s.tool(ctx, "initdb", "-D", s.dataDir(), "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C",
		"--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// The port is free when picked, not necessarily when the server binds
	// it: another attempt picks another.
	for attempt := 1; ; attempt++ {
		err = s.start(ctx)
		if err == nil {
			return s, nil
		}
		if attempt == 5 || !strings.Contains(err.Error(), "could not bind") {
			return nil, err
		}
	}
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// tool runs one of PostgreSQL's programs as the cluster's owner.
func (s *Server) tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(s.binDir, name)
	if s.owner == nil {
		return exec.CommandContext(ctx, bin, args...)
	}
	return exec.CommandContext(ctx, "runuser", append([]string{"-u", s.owner.Username, "--", bin}, args...)...)
}

func (s *Server) start(ctx context.Context) error {
	port, err := freeport.Get()
	if err != nil {
		return err
	}
	s.port = port
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create server log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), "-D", s.dataDir(),
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port), "-c", "unix_socket_directories="+s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if s.owner != nil {
		uid, _ := strconv.ParseUint(s.owner.Uid, 10, 32)
		gid, _ := strconv.ParseUint(s.owner.Gid, 10, 32)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The parent-death signal comes when the thread that started the
		// child ends, not the process: this goroutine keeps its thread
		// until the server exits.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait()
		}
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("postgres exited at start:\n%s", tail(logPath))
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.kill()
			return fmt.Errorf("postgres on port %d does not accept connections: %w\n%s", port, err, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// DSN is the connection string of database db as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, s.port, db)
}

// CreateDatabase creates an empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context) (name, dsn string, err error) {
	name = fmt.Sprintf("kansoku_test_%d", s.n.Add(1))
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", err
	}
	return name, s.DSN(name), nil
}

// DropDatabase drops a database, closing its connections.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	return s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func (s *Server) admin(ctx context.Context, stmt string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// NewDatabase creates an empty database for t, dropped when t ends (after
// the cleanups t registers later, such as closing its handles), and
// returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name, dsn, err := s.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.DropDatabase(context.Background(), name); err != nil {
			t.Logf("drop test database: %v", err)
		}
	})
	return dsn
}

// Stop shuts the server down at once (pg_ctl stop -m immediate: nothing
// is worth a checkpoint) and removes its directory.
func (s *Server) Stop() error {
	var errs []error
	select {
	case <-s.exited:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := s.tool(ctx, "pg_ctl", "stop", "-D", s.dataDir(), "-m", "immediate", "-w").CombinedOutput()
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("pg_ctl stop: %w: %s", err, bytes.TrimSpace(out)))
			_ = s.cmd.Process.Kill()
		}
		<-s.exited
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Shared is one server for every test of a test binary, started by the
// first test that asks for it.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Get returns the shared server, starting it on first use; a test that
// cannot have it fails (with the way to install PostgreSQL).
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() {
		start := time.Now()
		sh.srv, sh.err = Start(context.Background())
		if sh.err == nil {
			t.Logf("PostgreSQL test server on 127.0.0.1:%d, started in %v", sh.srv.port, time.Since(start).Round(time.Millisecond))
		}
	})
	if sh.err != nil {
		t.Fatalf("PostgreSQL for the tests: %v", sh.err)
	}
	return sh.srv
}

// Stop stops the shared server if it was started.
func (sh *Shared) Stop() error {
	sh.once.Do(func() {}) // none may start after this
	if sh.srv == nil {
		return nil
	}
	return sh.srv.Stop()
}

// Main runs the tests of m, then stops the shared server: a package's
// TestMain is os.Exit(pg.Main(m)).
func (sh *Shared) Main(m *testing.M) int {
	code := m.Run()
	if err := sh.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	return code
}
