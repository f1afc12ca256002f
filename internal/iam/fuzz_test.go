package iam

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/auth"
)

// FuzzSessionToken: whatever a client sends as a session token, nothing
// panics, and only a token sealed with this installation's key for that
// very key id opens (the seeds include one; every mutation of it fails).
func FuzzSessionToken(f *testing.F) {
	fx := newFixture(f)
	good, err := fx.svc.mint(auth.Session{RoleID: "AROAX", RoleName: "R", IssuedAt: fx.clock.Now(), Expires: fx.clock.Now().Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.AccessKeyID, good.SessionToken)
	f.Add("ASIAAAAAAAAAAAAAAAAA", base64.StdEncoding.EncodeToString([]byte(`{"v":1}`)))
	f.Add(good.AccessKeyID, good.SessionToken[:len(good.SessionToken)-4])
	f.Fuzz(func(t *testing.T, keyID, token string) {
		ss, err := fx.svc.openSession(keyID, token)
		if err != nil {
			return
		}
		// The fuzzing engine's workers each mint their own seed token, with
		// the same fixed key: what opens must be a whole token for keyID.
		if ss.KeyID != keyID || ss.Version != 1 || ss.Secret == "" || ss.RoleID != "AROAX" {
			t.Fatalf("a token opened that was not minted for %q: %+v", keyID, ss)
		}
	})
}
