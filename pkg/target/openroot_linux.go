package target

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// openFlags open a credential for reading without waiting on a FIFO's
// writer or taking a terminal as ours.
const openFlags = unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

// noOpenat2 is set once openat2 turned out to be missing (Linux before 5.6,
// or a seccomp profile that does not know it).
var noOpenat2 atomic.Bool

// openInRoot opens name inside the directory root as if root were "/":
// openat2 with RESOLVE_IN_ROOT, or, where the kernel lacks it, a walk of
// one component at a time from the root's file descriptor that resolves
// every symlink itself (walkInRoot). Both hold on to what they resolved, so
// nothing can be swapped between resolving and opening.
func openInRoot(root, name string) (*os.File, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	fd, err := openat2InRoot(rootFD, name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), root+path.Clean("/"+name)), nil
}

func openat2InRoot(rootFD int, name string) (int, error) {
	if !noOpenat2.Load() {
		how := &unix.OpenHow{
			Flags:   openFlags,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
		for attempt := 0; ; attempt++ {
			fd, err := unix.Openat2(rootFD, name, how)
			switch {
			case err == nil:
				return fd, nil
			case err == unix.EAGAIN && attempt < 8:
				continue // a rename raced a ".." walk: the kernel asks to try again
			case err == unix.ENOSYS:
				noOpenat2.Store(true)
			case err == unix.EPERM || err == unix.EINVAL || err == unix.E2BIG:
				// Refused by a seccomp profile, or flags this kernel does
				// not know: the walk is as safe, only slower.
			default:
				return -1, err
			}
			break
		}
	}
	return walkInRoot(rootFD, name)
}

// walkInRoot resolves name from rootFD one component at a time: each
// component is opened with O_NOFOLLOW relative to the directory opened
// before it, a symlink is read from its own descriptor and its target
// walked in turn (an absolute one from the root again), and ".." pops back
// to the directory walked before, never above the root. This is what
// RESOLVE_IN_ROOT does in the kernel.
func walkInRoot(rootFD int, name string) (int, error) {
	if name == "" {
		return -1, unix.ENOENT // as openat2 says of an empty name
	}
	root, err := unix.Dup(rootFD)
	if err != nil {
		return -1, err
	}
	dirs := []int{root} // the directories walked through, root first
	defer func() {
		for _, fd := range dirs {
			unix.Close(fd)
		}
	}()
	pending := components(name)
	for links := 0; len(pending) > 0; {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case ".":
			continue
		case "..":
			if len(dirs) > 1 {
				unix.Close(dirs[len(dirs)-1])
				dirs = dirs[:len(dirs)-1]
			}
			continue
		}
		dir := dirs[len(dirs)-1]
		if len(pending) == 0 {
			// The last component, opened for reading; a symlink there fails
			// with ELOOP and is followed below.
			fd, err := unix.Openat(dir, part, openFlags|unix.O_NOFOLLOW, 0)
			if err != unix.ELOOP {
				return fd, err
			}
		}
		fd, err := unix.Openat(dir, part, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			dirs = append(dirs, fd)
		case unix.S_IFLNK:
			if links++; links > maxSymlinks {
				unix.Close(fd)
				return -1, unix.ELOOP
			}
			target, err := readlinkFD(fd)
			unix.Close(fd)
			if err != nil {
				return -1, err
			}
			if strings.HasPrefix(target, "/") {
				for _, d := range dirs[1:] {
					unix.Close(d)
				}
				dirs = dirs[:1]
			}
			pending = append(components(target), pending...)
		default:
			unix.Close(fd)
			if len(pending) > 0 {
				return -1, unix.ENOTDIR
			}
			// The last component was swapped for a file of another kind
			// between the two opens: look at it once more (a few times).
			if links++; links > maxSymlinks {
				return -1, unix.ELOOP
			}
			pending = []string{part}
		}
	}
	// The name is a directory (or the root itself).
	return unix.Openat(dirs[len(dirs)-1], ".", openFlags, 0)
}

// components splits a path into its names; a trailing slash stays as "."
// so that a file named with one is refused as the kernel refuses it.
func components(name string) []string {
	var out []string
	for _, part := range strings.Split(name, "/") {
		if part != "" {
			out = append(out, part)
		}
	}
	if strings.HasSuffix(name, "/") && len(out) > 0 {
		out = append(out, ".")
	}
	return out
}

// readlinkFD reads the target of the symlink fd was opened on (O_PATH).
func readlinkFD(fd int) (string, error) {
	for size := 256; size <= 1<<16; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", errors.New("symbolic link target too long")
}
