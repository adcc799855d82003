package target

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An ephemeral container (kubectl debug --target) runs kcurl's image as a
// non-root user. kubectl's default profile adds CAP_SYS_PTRACE, but a
// non-root process loses added capabilities when it execs, so the image's
// binary carries them as file capabilities instead: cap_sys_ptrace and
// cap_dac_override in its permitted set only, with no effective bit (a
// binary with the effective bit would not even start in a container that
// drops them). They do nothing until kcurl raises them, and it raises them
// only here, on one thread, for the opens under /proc/PID/root, and lowers
// them at once: reading an opened file needs no privilege (docs/security.md).

// processRights: ptrace's read access opens /proc/PID/root, its namespace
// links and its environ for a process of another user; DAC_OVERRIDE opens a
// file there that only its owner may read (a projected token of a container
// running as another uid is mode 0600).
var processRights = [...]uint{unix.CAP_SYS_PTRACE, unix.CAP_DAC_OVERRIDE}

func rightsMask() uint32 {
	var mask uint32
	for _, c := range processRights {
		mask |= 1 << c // both are below 32: the first word of the sets
	}
	return mask
}

// threadCaps are the capability sets of the calling thread (capabilities
// are per thread in Linux).
func threadCaps() ([2]unix.CapUserData, error) {
	var data [2]unix.CapUserData
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	err := unix.Capget(&hdr, &data[0])
	return data, err
}

func setThreadCaps(data [2]unix.CapUserData) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	return unix.Capset(&hdr, &data[0])
}

// withProcessAccess runs open with processRights effective, as far as they
// are permitted and not effective already. Most of the time there is
// nothing to raise (no file capabilities; or root, who has them) and open
// simply runs. Otherwise open runs on a goroutine locked to its own thread,
// which raises the rights, opens, and lowers them again; if lowering fails
// the thread stays locked, and the runtime ends it with the goroutine, so
// no code ever runs on a thread left privileged. New threads are never
// cloned from a locked one (the Go runtime starts them from a template
// thread), so the raised rights cannot spread.
func withProcessAccess(open func() error) error {
	caps, err := threadCaps()
	if err != nil || caps[0].Permitted&^caps[0].Effective&rightsMask() == 0 {
		return open()
	}
	result := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		lowered, err := raisedOnThisThread(open)
		if lowered {
			runtime.UnlockOSThread()
		}
		result <- err
	}()
	return <-result
}

// raisedOnThisThread runs open with processRights raised on the calling
// thread, which the caller has locked; lowered says whether the thread's
// capabilities are as they were before.
func raisedOnThisThread(open func() error) (lowered bool, err error) {
	before, err := threadCaps()
	if err != nil {
		return true, open()
	}
	raised := before
	raised[0].Effective |= before[0].Permitted & rightsMask()
	if raised == before {
		return true, open()
	}
	if setThreadCaps(raised) != nil {
		return true, open() // unchanged: the open fails as it would have
	}
	err = open()
	if setThreadCaps(before) != nil {
		return false, err
	}
	after, cerr := threadCaps()
	return cerr == nil && after == before, err
}

// dropProcessRights takes processRights out of every thread's permitted
// and effective sets for good, once the target needs no other process's
// files (our own service account, a kubeconfig): a sidecar or a debug Pod
// then runs without them, whatever the binary carries. Nothing to drop is
// the common case. Only rights the binary's file capabilities gave
// (permitted, not effective) are dropped: root's own stay, as root may
// need them later (a kubeconfig's client key of another user, read at each
// handshake). Where the runtime cannot act on all threads at once (a cgo
// build) the rights stay permitted, and unused.
func dropProcessRights() {
	caps, err := threadCaps()
	if err != nil || caps[0].Permitted&rightsMask() == 0 || caps[0].Effective&rightsMask() != 0 {
		return
	}
	caps[0].Permitted &^= rightsMask()
	caps[0].Effective &^= rightsMask()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	_, _, _ = syscall.AllThreadsSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&caps[0])), 0)
}
