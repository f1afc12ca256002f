package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

// Credential formats follow AWS's where a tool might check them: access key
// ids are 20 characters, "AKIA" and 16 of [A-Z2-7]; secrets are 40
// characters of base64.

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b
}

// NewAccessKeyID returns a fresh AKIA-style access key id.
func NewAccessKeyID() string { return "AKIA" + b32.EncodeToString(randomBytes(10)) }

// NewPrincipalID returns a fresh AIDA-style unique id for a principal.
func NewPrincipalID() string { return "AIDA" + b32.EncodeToString(randomBytes(10)) }

// NewSecretAccessKey returns a fresh 40-character secret.
func NewSecretAccessKey() string {
	return base64.StdEncoding.EncodeToString(randomBytes(30))
}

// TokenPrefix starts every Kansoku API token, so that secret scanners and
// people can tell one apart.
const TokenPrefix = "kst_"

// NewAPIToken returns a token's id, the full token string to hand out once,
// and the hash to store.
func NewAPIToken() (id, token string, hash []byte) {
	id = strings.ToLower(b32.EncodeToString(randomBytes(10)))
	secret := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	token = TokenPrefix + id + "_" + secret
	return id, token, HashTokenSecret(secret)
}

// ParseAPIToken splits a token into its id and secret parts.
func ParseAPIToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", false
	}
	return id, secret, true
}

// HashTokenSecret hashes a token's secret part for storage. Tokens carry
// 256 random bits, so a plain SHA-256 is enough (no password stretching).
func HashTokenSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
