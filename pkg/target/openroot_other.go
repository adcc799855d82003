//go:build !linux

package target

import (
	"errors"
	"io/fs"
	"os"
)

// Another process's root is a Linux thing (/proc/PID/root).
func openInRoot(root, name string) (*os.File, error) {
	return nil, &fs.PathError{Op: "open", Path: root + name, Err: errors.New("reading another process's files needs Linux")}
}

func withProcessAccess(open func() error) error { return open() }

func dropProcessRights() {}
