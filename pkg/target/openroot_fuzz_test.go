//go:build linux

package target

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzOpenInRoot: for a tree with symlinks whose targets the fuzzer picks,
// and a name it picks, openat2's RESOLVE_IN_ROOT and the walk that stands
// in for it agree (the same file, or both fail), and neither ever opens
// the file beside the root that stands for kcurl's own.
func FuzzOpenInRoot(f *testing.F) {
	for _, seed := range [][3]string{
		{"var/run/secrets/token", "/run", "../a"},
		{"link/token", "/etc/../run/", "/outside"},
		{"a/b/../../link", "../../../outside", "a/b"},
		{"loop", "/loop", "loop"},
		{"a/rel/f", "..", "./b/../f"},
		{"run/", "x", "/"},
		{"", "x", "y"},
		{"/", "x", "y"},
		{"link/", "a/f", "y"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	// One tree for every input; only the two links change.
	base := f.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, dir := range []string{"run/secrets", "a/b", "etc", "var"} {
		must(f, os.MkdirAll(filepath.Join(root, dir), 0o755))
	}
	must(f, os.WriteFile(filepath.Join(root, "run/secrets/token"), []byte("inside"), 0o600))
	must(f, os.WriteFile(filepath.Join(root, "a/f"), []byte("inside"), 0o600))
	must(f, os.WriteFile(outside, []byte("ours"), 0o600))
	must(f, os.Symlink("/run", filepath.Join(root, "var/run")))
	var outsideStat unix.Stat_t
	must(f, unix.Stat(outside, &outsideStat))
	f.Fuzz(func(t *testing.T, name, target1, target2 string) {
		if strings.ContainsRune(name+target1+target2, 0) || len(target1) > 200 || len(target2) > 200 || target1 == "" || target2 == "" {
			return
		}
		for link, target := range map[string]string{"link": target1, "a/rel": target2} {
			_ = os.Remove(filepath.Join(root, link))
			must(t, os.Symlink(target, filepath.Join(root, link)))
		}

		rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		must(t, err)
		defer unix.Close(rootFD)
		how := &unix.OpenHow{Flags: openFlags, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		kernelFD, kernelErr := unix.Openat2(rootFD, name, how)
		// A rename anywhere on the machine during a ".." walk makes the
		// kernel answer EAGAIN (openat2(2)); openat2InRoot retries it, and
		// so must the comparison, or a busy machine fails this target.
		for attempt := 0; kernelErr == unix.EAGAIN && attempt < 100; attempt++ {
			kernelFD, kernelErr = unix.Openat2(rootFD, name, how)
		}
		if kernelErr == unix.ENOSYS {
			t.Skip("no openat2 here")
		}
		walkFD, walkErr := walkInRoot(rootFD, name)
		var kernel, walk unix.Stat_t
		if kernelErr == nil {
			defer unix.Close(kernelFD)
			must(t, unix.Fstat(kernelFD, &kernel))
		}
		if walkErr == nil {
			defer unix.Close(walkFD)
			must(t, unix.Fstat(walkFD, &walk))
		}
		for _, st := range []unix.Stat_t{kernel, walk} {
			if st.Ino == outsideStat.Ino && st.Dev == outsideStat.Dev {
				t.Fatalf("%q (link -> %q, a/rel -> %q) opened the file outside the root", name, target1, target2)
			}
		}
		switch {
		case (kernelErr == nil) != (walkErr == nil):
			t.Fatalf("%q (link -> %q, a/rel -> %q): openat2 %v, walk %v", name, target1, target2, kernelErr, walkErr)
		case kernelErr == nil && (kernel.Ino != walk.Ino || kernel.Dev != walk.Dev):
			t.Fatalf("%q (link -> %q, a/rel -> %q): openat2 and the walk opened different files", name, target1, target2)
		}
	})
}
