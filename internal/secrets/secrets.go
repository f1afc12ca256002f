// Package secrets encrypts the secrets Kansoku must be able to read back
// (SigV4 secret access keys, AWS integration keys) before they reach the
// metadata store. Secrets that only need to be compared (API tokens,
// passwords) are hashed instead and never pass through here.
//
// The key is 32 random bytes in <data.dir>/secret.key (mode 0600), created on
// first start. Every node of a scale-out installation must share it.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const keySize = 32

// Box seals and opens secrets with AES-256-GCM. The associated data binds a
// sealed secret to its owner (for example the access key id), so a sealed
// value copied onto another row does not open.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", keySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// LoadOrCreateKeyFile reads a hex-encoded key from path, creating the file
// with a fresh random key (mode 0600) when it does not exist.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != keySize {
			return nil, fmt.Errorf("secret key file %s: want %d hex-encoded bytes", path, keySize)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return key, f.Close()
}

// Seal encrypts plain; the result is nonce || ciphertext.
func (b *Box) Seal(plain, associated []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, plain, associated), nil
}

// Open decrypts a value produced by Seal with the same associated data.
func (b *Box) Open(sealed, associated []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed secret too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], associated)
	if err != nil {
		return nil, errors.New("sealed secret does not open with this key (wrong secret.key?)")
	}
	return plain, nil
}

// sealedPrefix marks a sealed value in a column that held plain values
// before it was sealed; plain YAML or JSON never starts with a NUL byte.
var sealedPrefix = []byte("\x00kansoku-sealed-v1:")

// SealMarked seals plain (nil stays nil) and marks the result, so that
// OpenMarked tells it from a value stored before sealing existed.
func (b *Box) SealMarked(plain, associated []byte) ([]byte, error) {
	if plain == nil {
		return nil, nil
	}
	out, err := b.Seal(plain, associated)
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, sealedPrefix...), out...), nil
}

// OpenMarked opens a value of SealMarked; an unmarked value is returned as
// it is (stored before sealing; sealed on its next write).
func (b *Box) OpenMarked(data, associated []byte) ([]byte, error) {
	rest, ok := bytesCutPrefix(data, sealedPrefix)
	if !ok {
		return data, nil
	}
	return b.Open(rest, associated)
}

// IsMarked reports whether data is a value of SealMarked.
func IsMarked(data []byte) bool {
	_, ok := bytesCutPrefix(data, sealedPrefix)
	return ok
}

func bytesCutPrefix(s, prefix []byte) ([]byte, bool) {
	if len(s) < len(prefix) || string(s[:len(prefix)]) != string(prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
