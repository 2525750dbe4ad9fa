//go:build !linux

package vision

import "runtime"

// Background locks the goroutine to its thread; lowering a thread's
// priority is Linux-only here.
func Background(nice int) error {
	runtime.LockOSThread()
	return nil
}
