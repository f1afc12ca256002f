package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key, err := LoadOrCreateKeyFile(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal([]byte("wJalrXUtnFEMI"), []byte("AKIA1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("wJalrXUtnFEMI")) {
		t.Fatal("sealed value contains the plain text")
	}
	plain, err := b.Open(sealed, []byte("AKIA1"))
	if err != nil || string(plain) != "wJalrXUtnFEMI" {
		t.Fatalf("open: %q %v", plain, err)
	}
	if _, err := b.Open(sealed, []byte("AKIA2")); err == nil {
		t.Fatal("a sealed secret moved to another key id must not open")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := b.Open(sealed, []byte("AKIA1")); err == nil {
		t.Fatal("tampered value opened")
	}
	other, _ := New(bytes.Repeat([]byte{7}, 32))
	if _, err := other.Open(sealed, []byte("AKIA1")); err == nil {
		t.Fatal("opened with another key")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	k1, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode())
	}
	k2, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key not reused")
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("corrupt key file accepted")
	}
}
