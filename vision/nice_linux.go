package vision

import (
	"runtime"
	"syscall"
)

// Background lowers the scheduling priority of the calling goroutine's
// thread to nice (1..19) and keeps the goroutine on that thread for good:
// when the goroutine ends, Go ends the thread with it, so the lowered
// priority never leaks to other goroutines. ONNX Runtime runs a
// one-thread session on the caller's thread, and the threads of a bigger
// session inherit the priority of the thread that created it; so labelling
// yields the CPU to intake and the pipeline whenever they want it, and
// uses it when they do not.
func Background(nice int) error {
	runtime.LockOSThread()
	return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice)
}
