//go:build !unix

package nats

import (
	"fmt"
	"os"
)

// lockDir holds path open exclusively. Outside Unix there is no flock; the
// file is opened and kept open so that at least the path exists, and the
// single-process rule is left to the operator (documented in doc.go).
func lockDir(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return f.Close, nil
}
