package testenv

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// BuildBinary builds cmd/kansoku of the module at repoRoot into dir, as
// the end-to-end and attack suites run it, with the race detector when
// race is set.
func BuildBinary(repoRoot, dir string, race bool) (string, error) {
	bin := filepath.Join(dir, "kansoku")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/kansoku")...)
	build.Dir = repoRoot
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building kansoku: %w", err)
	}
	return bin, nil
}

// Process is a kansoku binary running as a child process.
type Process struct {
	Cmd     *exec.Cmd
	LogFile string // its stderr (and stdout, unless Stdout was given)
	Addr    string // the address it listens on, when learnt from its log
	exited  chan error
}

// ProcessOptions describe a child process to start.
type ProcessOptions struct {
	Binary string
	Args   []string
	Env    []string      // added to the test's environment
	Stdout io.Writer     // nil: the log file
	Ready  string        // URL answering 200 once the server is ready
	Wait   time.Duration // for Ready; default 60 s
	// ReadyPath, with Ready empty, is the path polled on the address the
	// server logs as bound ("msg=listening address=..."): start it on port
	// 0 and learn the port, with no pick-a-free-port race.
	ReadyPath string
}

var listeningRE = regexp.MustCompile(`msg=listening address=(\S+)`)

// StartProcess runs the binary and waits until Ready answers 200; the test
// fails with the process's log if it exits first or never becomes ready.
func StartProcess(t testing.TB, o ProcessOptions) *Process {
	t.Helper()
	p := &Process{LogFile: filepath.Join(t.TempDir(), "kansoku.log"), exited: make(chan error, 1)}
	lf, err := os.Create(p.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd = exec.Command(o.Binary, o.Args...)
	p.Cmd.Env = append(os.Environ(), o.Env...)
	p.Cmd.Stdout, p.Cmd.Stderr = lf, lf
	if o.Stdout != nil {
		p.Cmd.Stdout = o.Stdout
	}
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.Cmd.Wait(); lf.Close() }()
	wait := o.Wait
	if wait == 0 {
		wait = 60 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		ready := o.Ready
		if ready == "" {
			if m := listeningRE.FindStringSubmatch(p.Log()); m != nil {
				p.Addr = m[1]
				ready = "http://" + p.Addr + o.ReadyPath
			}
		}
		if ready == "" {
			if p.waitOrExit(t, deadline) {
				continue
			}
		}
		resp, err := http.Get(ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		p.waitOrExit(t, deadline)
	}
}

// waitOrExit sleeps a moment, failing the test if the process exited or
// the deadline passed; it reports true to go on polling.
func (p *Process) waitOrExit(t testing.TB, deadline time.Time) bool {
	t.Helper()
	select {
	case err := <-p.exited:
		t.Fatalf("kansoku exited during start: %v\n%s", err, p.Log())
	default:
	}
	if time.Now().After(deadline) {
		t.Fatalf("kansoku did not become ready in time\n%s", p.Log())
	}
	time.Sleep(50 * time.Millisecond)
	return true
}

// Log returns what the process logged.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogFile)
	return string(b)
}

// Stop ends the process, SIGTERM (graceful) or SIGKILL, and returns its
// exit error; after 30 s of SIGTERM it is killed and errTimeout returned.
func (p *Process) Stop(kill bool) error {
	if p.Cmd == nil || p.Cmd.Process == nil {
		return nil
	}
	select {
	case err := <-p.exited:
		return err
	default:
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = p.Cmd.Process.Signal(sig)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.exited //nolint:errcheck // killed: its exit error says only that
		return ErrStopTimeout
	}
}

// ErrStopTimeout is returned by Stop when SIGTERM did not end the process.
var ErrStopTimeout = errors.New("kansoku did not stop within 30s of SIGTERM")
