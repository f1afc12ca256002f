package app_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

// rawRequest writes a request's head (no body) on a fresh connection and
// returns the connection and the status line of the answer, or "" if none
// came within wait.
func rawRequest(t *testing.T, s *testenv.Server, head string, wait time.Duration) (net.Conn, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return conn, strings.TrimSpace(line)
}

// F5: a request without valid credentials is answered before its body is
// read: the server answers a 15 MiB remote_write whose body was never sent.
func TestUnauthenticatedBodiesAreNotRead(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "bodies")
	for name, auth := range map[string]string{
		"no credentials": "",
		"bad token":      "Authorization: Bearer ksk_bogus.bogus\r\n",
		"unknown key":    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN000000000/20261202/us-east-1/aps/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: " + time.Now().UTC().Format("20060102T150405Z") + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			head := fmt.Sprintf("POST /workspaces/%s/api/v1/remote_write HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n%sContent-Length: %d\r\n\r\n",
				ws, strings.TrimPrefix(s.URL, "http://"), auth, 15<<20)
			_, status := rawRequest(t, s, head, 5*time.Second)
			if !strings.HasPrefix(status, "HTTP/1.1 403") {
				t.Fatalf("got %q before sending the body; want 403 at once", status)
			}
		})
	}
}

// F5: an authenticated client that sends its body too slowly is cut off.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Web.BodyReadTimeout = model.Duration(time.Second) }})
	ws := s.CreateWorkspace(t, "slow")
	tok := s.Token(t).Token
	head := fmt.Sprintf("POST /workspaces/%s/api/v1/remote_write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\nx",
		ws, tok)
	start := time.Now()
	conn, status := rawRequest(t, s, head, 10*time.Second)
	if status == "" {
		// The server may close without an answer: the connection is gone.
		if _, err := conn.Write([]byte("y")); err == nil {
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				t.Fatal("the slow connection is still open")
			}
		}
	} else if !strings.HasPrefix(status, "HTTP/1.1 4") {
		t.Fatalf("answer %q; want a 4xx", status)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cut off after %s; the body read timeout is 1s", took)
	}
}

// The workspace's request size applies before the body is read.
func TestRemoteWriteOverTheWorkspaceLimit(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "big")
	c := s.Token(t)
	code, body, err := testenv.RemoteWriteRaw(ctx, c, ws, make([]byte, 2<<20))
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "max_request_bytes") {
		t.Fatalf("%d %s", code, body)
	}
}

// F4: a 10-byte body declaring 64 MiB of snappy output is refused without
// allocating it.
func TestSnappyDeclaredSizeIsNotTrusted(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "snappy")
	c := s.Token(t)
	bomb := binary.AppendUvarint(nil, 64<<20-1)
	bomb = append(bomb, 0, 0, 0, 0, 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 50; i++ {
		code, body, err := testenv.RemoteWriteRaw(ctx, c, ws, bomb)
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusBadRequest || !strings.Contains(body, "compressed bytes can hold") {
			t.Fatalf("%d %s", code, body)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Fatalf("50 ten-byte requests allocated %d MiB", grew>>20)
	}
}
