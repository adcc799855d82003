package target

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kcurl/kcurl/pkg/target/targettest"
)

// bothResolvers runs a test with openat2 and with the walk that stands in
// for it where the kernel lacks it.
func bothResolvers(t *testing.T, test func(t *testing.T)) {
	t.Run("openat2", test)
	t.Run("walk", func(t *testing.T) {
		noOpenat2.Store(true)
		defer noOpenat2.Store(false)
		test(t)
	})
}

func TestProcRootResolvesInsideTheRootBothWays(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		p := newFakeProc(t)
		root := p.add(42, "app", "mnt:[app]", nil)
		mountServiceAccount(t, root, "tok-1")
		fsys := procFS{Dir: p.dir}.root(42)
		if b, err := readFile(fsys, DefaultSADir+"/token"); err != nil || string(b) != "tok-1" {
			t.Fatalf("through /var/run -> /run and ..data: %q, %v", b, err)
		}
		must(t, os.Symlink("../../../../../../etc/hostname", filepath.Join(root, "escape")))
		if _, err := statFile(fsys, "/escape"); err == nil {
			t.Error("a link with .. past the root reached a file outside it")
		}
		outside := filepath.Join(t.TempDir(), "ours")
		must(t, os.WriteFile(outside, []byte("kcurl's own file"), 0o644))
		must(t, os.Symlink(outside, filepath.Join(root, "absolute")))
		if b, err := readFile(fsys, "/absolute"); err == nil {
			t.Errorf("an absolute link reached our own root: %q", b)
		}
		must(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "a", "f"), []byte("inside"), 0o644))
		must(t, os.Symlink("b/../../a/./f", filepath.Join(root, "a", "rel")))
		if b, err := readFile(fsys, "/a/rel"); err != nil || string(b) != "inside" {
			t.Errorf("a relative link with ..: %q, %v", b, err)
		}
		if _, err := statFile(fsys, "/a/f/"); !errors.Is(err, unix.ENOTDIR) {
			t.Errorf("a file named with a trailing slash: %v", err)
		}
		must(t, os.Symlink("/loop", filepath.Join(root, "loop")))
		if _, err := statFile(fsys, "/loop"); !errors.Is(err, unix.ELOOP) {
			t.Errorf("loop: %v", err)
		}
		must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o600))
		if _, err := readFile(fsys, "/fifo"); err == nil || !strings.Contains(err.Error(), "a named pipe (FIFO), not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	})
}

// A process that swaps its token for a symlink to one of kcurl's own files
// between kcurl resolving the name and opening it would, with a
// resolve-then-open walk, have kcurl read its own file and send it as the
// bearer token. Opened inside the root in one step, the link resolves in
// the other process's root, where that path does not exist.
func TestProcRootTokenSwappedForASymlink(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		p := newFakeProc(t)
		root := p.add(42, "app", "mnt:[app]", nil)
		secret := filepath.Join(t.TempDir(), "our-secret")
		must(t, os.WriteFile(secret, []byte("kcurl's own secret"), 0o600))
		dir := filepath.Join(root, "sa")
		must(t, os.MkdirAll(dir, 0o755))
		token, link := filepath.Join(dir, "token"), filepath.Join(dir, "token.link")
		real := filepath.Join(dir, "token.real")
		must(t, os.WriteFile(real, []byte("their token"), 0o600))
		must(t, os.Symlink(secret, link))
		// Readable from the start: the reads need not wait for the
		// swapper's first rename (on a loaded machine its goroutine may
		// not run before they are done, and none succeeded).
		must(t, os.Link(real, token))

		stop := make(chan struct{})
		var swaps atomic.Int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the hostile process: a file, a link, a file, ...
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				from := real
				if i%2 == 1 {
					from = link
				}
				tmp := token + ".tmp"
				_ = os.Remove(tmp)
				if i%2 == 1 {
					_ = os.Symlink(secret, tmp)
				} else {
					_ = os.Link(from, tmp)
				}
				if os.Rename(tmp, token) == nil {
					swaps.Add(1)
				}
			}
		}()
		fsys := procFS{Dir: p.dir}.root(42)
		reads := 0
		// At least 3,000 reads, and on through 1,000 swaps (within 20 s),
		// so that the reads did race the swapper.
		for i, start := 0, time.Now(); (i < 3000 || swaps.Load() < 1000) && time.Since(start) < 20*time.Second; i++ {
			b, err := readFile(fsys, "/sa/token")
			if err != nil {
				continue
			}
			reads++
			if string(b) != "their token" {
				close(stop)
				wg.Wait()
				t.Fatalf("read %q through a swapped link, after %d reads", b, reads)
			}
		}
		close(stop)
		wg.Wait()
		if reads == 0 || swaps.Load() < 1000 {
			t.Errorf("%d reads succeeded, over %d swaps: the test did not race the swapper", reads, swaps.Load())
		}
	})
}

// Our own KUBERNETES_SERVICE_* say where the server is whenever we have
// any: the other process's are taken only without them, all or none.
// Only the resolved address is compared: nothing is sent to it, so the
// name needs no mapping to 127.0.0.1 in /etc/hosts.
func TestServerAddressFromOurOwnEnvironment(t *testing.T) {
	p := newFakeProc(t)
	env := []string{"KUBERNETES_SERVICE_HOST=10.0.0.66", "KUBERNETES_SERVICE_PORT=6666"}
	mountServiceAccount(t, p.add(10, "app", "mnt:[app]", env), "tok")
	procs := procFS{Dir: p.dir, Self: p.self}
	got, err := resolve(Options{}, targettest.Env(map[string]string{"KUBERNETES_SERVICE_PORT": "443"}), mapFS{}, procs)
	if err != nil || got.Server.String() != "https://kubernetes.default.svc:443" {
		t.Fatalf("with our own port only: %v, %v; want our DNS name and port, none of theirs", got.Server, err)
	}
	got, err = resolve(Options{}, targettest.Env(nil), mapFS{}, procs)
	if err != nil || got.Server.String() != "https://10.0.0.66:6666" {
		t.Fatalf("without any of our own: %v, %v", got.Server, err)
	}
}

// The capabilities a binary's file capabilities permit are effective only
// inside raisedOnThisThread, and lowered after it.
func TestRaisedOnThisThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test lowers and raises this thread's own capabilities")
	}
	if caps, err := threadCaps(); err != nil || caps[0].Permitted&rightsMask() != rightsMask() {
		t.Skip("this root lacks CAP_SYS_PTRACE or CAP_DAC_OVERRIDE")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		caps, err := threadCaps()
		if err != nil {
			t.Error(err)
			return
		}
		// As a non-root kcurl with file capabilities starts: permitted,
		// not effective.
		lowered := caps
		lowered[0].Effective &^= rightsMask()
		if err := setThreadCaps(lowered); err != nil {
			t.Error(err)
			return
		}
		var during [2]unix.CapUserData
		ok, err := raisedOnThisThread(func() error {
			var err error
			during, err = threadCaps()
			return err
		})
		if err != nil || !ok {
			t.Errorf("raisedOnThisThread: lowered %v, %v", ok, err)
		}
		if during[0].Effective&rightsMask() != rightsMask() {
			t.Errorf("during the open, effective %#x lacks %#x", during[0].Effective, rightsMask())
		}
		after, _ := threadCaps()
		if after != lowered {
			t.Errorf("after the open the thread's capabilities are %+v, want %+v", after, lowered)
		}
		// Nothing to raise (nothing permitted beyond what is effective):
		// the open runs as it is.
		if ok, err := raisedOnThisThread(func() error { return errors.New("ran") }); !ok || err == nil || err.Error() != "ran" {
			t.Errorf("%v %v", ok, err)
		}
	}()
	<-done
}
