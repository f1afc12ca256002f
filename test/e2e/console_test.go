package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestConsoleWorkspaces: sign in with the admin key in a real Chromium,
// create, rename and delete a workspace, read its overview; every resource
// the pages load comes from Kansoku itself.
func TestConsoleWorkspaces(t *testing.T) {
	s := startServer(t, "")
	b := startBrowser(t)
	b.Go(s.URL + "/console/")
	b.Wait("#login-key", 10*time.Second)
	b.Screenshot("sign-in")
	b.Type("#login-key input[name=accessKeyId]", s.Creds["AWS_ACCESS_KEY_ID"])
	b.Type("#login-key input[name=secretAccessKey]", "wrong")
	b.Click("#login-key button[type=submit]")
	b.WaitText(".error", "sign-in failed", 10*time.Second)
	b.SignIn(s, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])

	b.Click("#create-workspace")
	b.Type("#create-workspace-form input[name=alias]", "console-made")
	b.Type("#create-workspace-form textarea[name=tags]", "team=web")
	b.Click("#create-workspace-form button[type=submit]")
	b.WaitText("#workspace-facts", "ARN", 10*time.Second)
	b.WaitText("#workspace-facts", "ACTIVE", 20*time.Second)
	b.Wait(".snippet pre", 5*time.Second)
	if txt := b.Text("main"); !strings.Contains(txt, "sigv4:") || !strings.Contains(txt, "/api/v1/remote_write") {
		t.Fatalf("overview lacks the remote_write snippet:\n%s", txt)
	}
	b.Screenshot("workspace-overview")

	b.Go(s.URL + "/console/#/workspaces")
	b.WaitText("#workspaces", "console-made", 10*time.Second)
	b.Screenshot("workspaces")
	b.Click("#workspaces tr[data-alias=console-made] button.rename")
	b.Type("#rename-form input[name=alias]", "renamed")
	b.Click("#rename-form button[type=submit]")
	b.WaitText("#workspaces", "renamed", 10*time.Second)
	b.Click("#workspaces tr[data-alias=renamed] button.delete")
	b.Type("#delete-form input[name=confirm]", "nope")
	b.Click("#delete-form button[type=submit]")
	b.WaitText("#delete-form .error", "Type delete", 5*time.Second)
	b.Type("#delete-form input[name=confirm]", "delete")
	b.Click("#delete-form button[type=submit]")
	// DELETING, or already gone.
	deadline := time.Now().Add(10 * time.Second)
	for txt := b.Text("#workspaces"); !strings.Contains(txt, "DELETING") && strings.Contains(txt, "renamed"); txt = b.Text("#workspaces") {
		if time.Now().After(deadline) {
			t.Fatalf("the workspace was not deleted:\n%s", txt)
		}
		time.Sleep(200 * time.Millisecond)
		b.Exec(`location.reload()`)
		b.Wait("#workspaces", 10*time.Second)
	}

	for _, o := range b.ResourceOrigins() {
		if o != s.URL {
			t.Errorf("the console loaded a resource from %s", o)
		}
	}
	b.Click("#sign-out")
	b.Wait("#login-key", 10*time.Second)
}
