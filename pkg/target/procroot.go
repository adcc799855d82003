package target

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// An ephemeral debug container (kubectl debug --target) shares the Pod's
// process namespace but gets no service-account mount of its own. The other
// containers' files are reachable under /proc/PID/root, so kcurl reads the
// token, CA and namespace from there.

// procRoot is the filesystem as process pid sees it. Every open starts at
// that root, opened afresh (a restarted container has a new one), and
// resolves the name inside it in one step (openInRoot): symlinks, absolute
// ones included, never leave it, and nothing can be swapped between
// resolving and opening, so another process cannot make kcurl read and send
// a file of kcurl's own root as its token. (The kernel alone would resolve
// an absolute link met under /proc/PID/root, such as /var/run -> /run,
// against the reader's root, not the target's.)
type procRoot struct {
	root string // e.g. /proc/42/root
}

// maxSymlinks is the kernel's own limit (MAXSYMLINKS).
const maxSymlinks = 40

// Open opens name inside the root, with the capabilities the binary may
// carry for it raised only for the open (withProcessAccess).
func (p procRoot) Open(name string) (fs.File, error) {
	var f *os.File
	err := withProcessAccess(func() error {
		var err error
		f, err = openInRoot(p.root, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Process is another container's process whose service account kcurl uses.
type Process struct {
	PID     int
	Command string
}

func (p Process) String() string { return fmt.Sprintf("process %d (%s)", p.PID, p.Command) }

// procFS reads the process table; Dir is /proc except in tests.
type procFS struct {
	Dir  string
	Self int // our own pid, never a candidate
}

func (pf procFS) root(pid int) procRoot {
	return procRoot{root: filepath.Join(pf.Dir, strconv.Itoa(pid), "root")}
}

func (pf procFS) command(pid int) string {
	b, err := os.ReadFile(filepath.Join(pf.Dir, strconv.Itoa(pid), "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// candidates are the processes whose root holds saDir/token, one per mount
// namespace (the processes of one container share it; the lowest pid stands
// for them), leaving out our own mount namespace. Only processes of our own
// PID namespace count: that is what a Pod's containers share with an
// ephemeral debug container, while on a node or a laptop every container
// has a PID namespace of its own, and kcurl must not pick up some Pod's
// identity there. denied are those whose root we may not read (another
// user's, without CAP_SYS_PTRACE): worth naming when nothing else is found.
func (pf procFS) candidates(saDir string) (found, denied []Process) {
	entries, err := os.ReadDir(pf.Dir)
	if err != nil {
		return nil, nil
	}
	// Reading another user's namespace links needs the same access as its
	// root (ptrace's read mode).
	ns := func(pid int, kind string) (link string) {
		_ = withProcessAccess(func() error {
			link, _ = os.Readlink(filepath.Join(pf.Dir, strconv.Itoa(pid), "ns", kind))
			return nil
		})
		return link
	}
	ownMnt, ownPID := ns(pf.Self, "mnt"), ns(pf.Self, "pid")
	seen := map[string]bool{}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid != pf.Self {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	for _, pid := range pids {
		if pidNS := ns(pid, "pid"); pidNS != "" && ownPID != "" && pidNS != ownPID {
			continue
		}
		mnt := ns(pid, "mnt")
		if mnt != "" && (mnt == ownMnt || seen[mnt]) {
			continue
		}
		if _, err := statFile(pf.root(pid), path.Join(saDir, "token")); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				denied = append(denied, Process{PID: pid, Command: pf.command(pid)})
			}
			continue
		}
		if mnt != "" {
			seen[mnt] = true
		}
		found = append(found, Process{PID: pid, Command: pf.command(pid)})
	}
	return found, denied
}

// environ reads the variables a process was started with.
func (pf procFS) environ(pid int) map[string]string {
	var b []byte
	err := withProcessAccess(func() (err error) {
		b, err = os.ReadFile(filepath.Join(pf.Dir, strconv.Itoa(pid), "environ"))
		return err
	})
	if err != nil {
		return nil
	}
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	return env
}

// sameToken reports whether every candidate has the same token: containers
// of one Pod mount the same service account, so any of them will do.
func (pf procFS) sameToken(saDir string, procs []Process) bool {
	var first []byte
	for i, p := range procs {
		b, err := readFile(pf.root(p.PID), path.Join(saDir, "token"))
		if err != nil {
			return false
		}
		if i == 0 {
			first = bytes.TrimSpace(b)
		} else if !bytes.Equal(first, bytes.TrimSpace(b)) {
			return false
		}
	}
	return true
}
