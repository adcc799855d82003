package target

import (
	"errors"
	"github.com/kcurl/kcurl/pkg/exitcode"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/target/targettest"
)

// fakeProc is a /proc tree for tests: each process has a root (a
// directory standing in for its filesystem, reached through the
// proc/PID/root link as the kernel's magic link would be), a comm, an
// environ and a mount-namespace link.
type fakeProc struct {
	t    *testing.T
	dir  string // the fake /proc
	self int
}

func newFakeProc(t *testing.T) *fakeProc {
	p := &fakeProc{t: t, dir: filepath.Join(t.TempDir(), "proc"), self: 7}
	p.add(p.self, "kcurl", "mnt:[own]", nil)
	return p
}

// add makes process pid with a fresh root and returns the root's path.
func (p *fakeProc) add(pid int, comm, mnt string, environ []string) string {
	t := p.t
	procDir := filepath.Join(p.dir, strconv.Itoa(pid))
	root := filepath.Join(filepath.Dir(p.dir), "roots", strconv.Itoa(pid))
	must(t, os.MkdirAll(filepath.Join(procDir, "ns"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "run"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "var"), 0o755))
	// As on most images: /var/run is an absolute link to /run.
	must(t, os.Symlink("/run", filepath.Join(root, "var", "run")))
	must(t, os.Symlink(root, filepath.Join(procDir, "root")))
	must(t, os.Symlink(mnt, filepath.Join(procDir, "ns", "mnt")))
	must(t, os.WriteFile(filepath.Join(procDir, "comm"), []byte(comm+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(procDir, "environ"), []byte(strings.Join(environ, "\x00")), 0o644))
	return root
}

// mountServiceAccount puts a kubelet-layout service-account dir at the
// kubelet's path inside root (under /run, reached through /var/run).
func mountServiceAccount(t *testing.T, root, token string) *targettest.ServiceAccount {
	return targettest.NewServiceAccountAt(t, filepath.Join(root, "run", "secrets", "kubernetes.io", "serviceaccount"),
		map[string]string{"token": token, "ca.crt": testCAPEM(t), "namespace": "app-ns"})
}

func testCAPEM(t *testing.T) string {
	return string(targettest.NewCA(t, "test").CertPEM)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestProcRootResolvesLinksInsideTheRoot(t *testing.T) {
	p := newFakeProc(t)
	root := p.add(42, "app", "mnt:[app]", nil)
	mountServiceAccount(t, root, "tok-1")
	fs := procFS{Dir: p.dir}.root(42)

	b, err := readFile(fs, DefaultSADir+"/token")
	if err != nil || string(b) != "tok-1" {
		t.Fatalf("ReadFile through /var/run -> /run: %q, %v", b, err)
	}
	// What the kernel would do: the absolute /run resolves against our own
	// root, where this file does not exist.
	if _, err := os.ReadFile(filepath.Join(p.dir, "42", "root", DefaultSADir, "token")); err == nil {
		t.Fatal("the test's premise failed: the plain path should not reach the file")
	}

	t.Run("links never leave the root", func(t *testing.T) {
		must(t, os.Symlink("../../../../../../etc/hostname", filepath.Join(root, "escape")))
		must(t, os.WriteFile(filepath.Join(root, "hostname-inside"), nil, 0o644))
		if _, err := statFile(fs, "/escape"); err == nil {
			t.Error("a link with .. past the root reached a file outside it")
		}
	})
	t.Run("a loop is an error", func(t *testing.T) {
		must(t, os.Symlink("/loop", filepath.Join(root, "loop")))
		if _, err := statFile(fs, "/loop"); err == nil || !strings.Contains(err.Error(), "too many levels") {
			t.Errorf("loop: %v", err)
		}
	})
}

func TestEphemeralContainerUsesTheOtherContainersServiceAccount(t *testing.T) {
	p := newFakeProc(t)
	env := []string{"KUBERNETES_SERVICE_HOST=10.0.0.1", "KUBERNETES_SERVICE_PORT_HTTPS=6443", "SECRET=not-read"}
	root := p.add(1, "nginx", "mnt:[app]", env)
	sa := mountServiceAccount(t, root, "tok-1")
	p.add(2, "nginx", "mnt:[app]", env)   // a worker of the same container
	p.add(3, "sh", "mnt:[own]", nil)      // our own container
	p.add(4, "other", "mnt:[other]", nil) // a container without a service account

	// Our own service-account dir does not exist; neither do the variables.
	got, err := resolve(Options{SADir: DefaultSADir}, targettest.Env(nil), mapFS{}, procFS{Dir: p.dir, Self: p.self})
	if err != nil {
		t.Fatal(err)
	}
	if got.Process == nil || got.Process.PID != 1 || got.Process.Command != "nginx" {
		t.Fatalf("process %+v, want 1 (nginx)", got.Process)
	}
	if got.Server.String() != "https://10.0.0.1:6443" || got.Namespace != "app-ns" {
		t.Errorf("server %s, namespace %s", got.Server, got.Namespace)
	}
	for key, want := range map[string]string{
		"server":    "$KUBERNETES_SERVICE_HOST, $KUBERNETES_SERVICE_PORT_HTTPS of process 1 (nginx)",
		"token":     "service account of process 1 (nginx) (" + DefaultSADir + "/token)",
		"namespace": "service account of process 1 (nginx) (" + DefaultSADir + "/namespace)",
		"ca":        "service account of process 1 (nginx) (" + DefaultSADir + "/ca.crt)",
	} {
		if got.Sources[key] != want {
			t.Errorf("source of %s: %q, want %q", key, got.Sources[key], want)
		}
	}
	if tok, _ := got.Token.Token(); tok != "tok-1" {
		t.Errorf("token %q", tok)
	}
	// The kubelet rotates the token in the other container: the next
	// request reads the new one through the same resolution.
	sa.Rotate(map[string]string{"token": "tok-2", "ca.crt": testCAPEM(t), "namespace": "app-ns"})
	if tok, err := got.Token.Token(); tok != "tok-2" || err != nil {
		t.Errorf("after rotation: %q, %v", tok, err)
	}
}

func TestEphemeralContainerChoices(t *testing.T) {
	base := func(t *testing.T) (*fakeProc, procFS) {
		p := newFakeProc(t)
		mountServiceAccount(t, p.add(10, "app", "mnt:[app]", nil), "tok-app")
		return p, procFS{Dir: p.dir, Self: p.self}
	}
	t.Run("containers with one token count as one", func(t *testing.T) {
		p, procs := base(t)
		mountServiceAccount(t, p.add(20, "sidecar", "mnt:[sidecar]", nil), "tok-app")
		got, err := resolve(Options{}, targettest.Env(nil), mapFS{}, procs)
		if err != nil || got.Process.PID != 10 {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("different tokens need --from-pid", func(t *testing.T) {
		p, procs := base(t)
		mountServiceAccount(t, p.add(20, "istio-proxy", "mnt:[sidecar]", nil), "tok-mesh")
		_, err := resolve(Options{}, targettest.Env(nil), mapFS{}, procs)
		var choice *ProcessChoiceError
		if !errors.As(err, &choice) {
			t.Fatalf("want a ProcessChoiceError, got %v", err)
		}
		want := "no service account of our own, and several other containers have one; choose with --from-pid PID:\n  process 10 (app)\n  process 20 (istio-proxy)"
		if err.Error() != want {
			t.Errorf("got %q\nwant %q", err, want)
		}
		got, err := resolve(Options{FromPID: 20}, targettest.Env(nil), mapFS{}, procs)
		if err != nil || got.Process.PID != 20 {
			t.Fatalf("--from-pid 20: %+v, %v", got, err)
		}
		if tok, _ := got.Token.Token(); tok != "tok-mesh" {
			t.Errorf("token %q", tok)
		}
	})
	t.Run("--from-pid without a service account", func(t *testing.T) {
		p, procs := base(t)
		p.add(30, "busybox", "mnt:[x]", nil)
		_, err := resolve(Options{FromPID: 30}, targettest.Env(nil), mapFS{}, procs)
		var nf *NotFoundError
		if !errors.As(err, &nf) || !strings.HasPrefix(err.Error(), "no Kubernetes credentials found: no token for --from-pid: process 30 (busybox) has no "+DefaultSADir+"/token") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("--from-pid must be a pid", func(t *testing.T) {
		_, procs := base(t)
		_, err := resolve(Options{FromPID: -1}, targettest.Env(nil), mapFS{}, procs)
		var usage *exitcode.UsageError
		if !errors.As(err, &usage) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("our own service account wins", func(t *testing.T) {
		_, procs := base(t)
		own := targettest.NewServiceAccount(t, map[string]string{"token": "tok-own", "ca.crt": testCAPEM(t), "namespace": "own"})
		got, err := resolve(Options{SADir: own.Dir}, targettest.Env(nil), hostFS{}, procs)
		if err != nil || got.Process != nil || got.Namespace != "own" {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("a token flag means no looking around", func(t *testing.T) {
		_, procs := base(t)
		got, err := resolve(Options{Token: "typed", Insecure: true}, targettest.Env(nil), mapFS{}, procs)
		if err != nil || got.Process != nil {
			t.Fatalf("%+v, %v", got, err)
		}
	})
	t.Run("processes of another PID namespace are not this Pod's", func(t *testing.T) {
		// On a node or a laptop, each container has a PID namespace of its
		// own: kcurl must not take some Pod's identity from there.
		p := newFakeProc(t)
		must(t, os.Symlink("pid:[host]", filepath.Join(p.dir, strconv.Itoa(p.self), "ns", "pid")))
		root := p.add(10, "app", "mnt:[app]", nil)
		must(t, os.Symlink("pid:[a-pod]", filepath.Join(p.dir, "10", "ns", "pid")))
		mountServiceAccount(t, root, "tok")
		_, err := resolve(Options{}, targettest.Env(nil), mapFS{}, procFS{Dir: p.dir, Self: p.self})
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("want NotFoundError, got %v", err)
		}
		must(t, os.Remove(filepath.Join(p.dir, "10", "ns", "pid")))
		must(t, os.Symlink("pid:[host]", filepath.Join(p.dir, "10", "ns", "pid")))
		got, err := resolve(Options{}, targettest.Env(nil), mapFS{}, procFS{Dir: p.dir, Self: p.self})
		if err != nil || got.Process == nil || got.Process.PID != 10 {
			t.Fatalf("in the same PID namespace: %+v, %v", got, err)
		}
	})
	t.Run("our own variables win over the other process's", func(t *testing.T) {
		p := newFakeProc(t)
		mountServiceAccount(t, p.add(10, "app", "mnt:[app]", []string{"KUBERNETES_SERVICE_HOST=10.0.0.1"}), "tok")
		got, err := resolve(Options{}, targettest.Env(map[string]string{"KUBERNETES_SERVICE_HOST": "10.9.9.9"}), mapFS{}, procFS{Dir: p.dir, Self: p.self})
		if err != nil || got.Server.Hostname() != "10.9.9.9" {
			t.Fatalf("%+v, %v", got, err)
		}
	})
}

// A plain-HTTP server is a proxy that adds credentials itself: no
// service-account token (ours or another container's) is sent over it.
func TestPlainHTTPServerGetsNoServiceAccountToken(t *testing.T) {
	p := newFakeProc(t)
	mountServiceAccount(t, p.add(10, "app", "mnt:[app]", nil), "tok-other")
	own := targettest.NewServiceAccount(t, map[string]string{"token": "tok-own", "ca.crt": testCAPEM(t)})
	for _, saDir := range []string{own.Dir, DefaultSADir} {
		got, err := resolve(Options{Server: "http://127.0.0.1:8001", SADir: saDir}, targettest.Env(nil), hostFS{}, procFS{Dir: p.dir, Self: p.self})
		if err != nil || got.Token != nil || got.CA != nil || got.Process != nil {
			t.Fatalf("sa-dir %s: %+v, %v", saDir, got, err)
		}
	}
	got, err := resolve(Options{Server: "http://127.0.0.1:8001", Token: "typed"}, targettest.Env(nil), hostFS{}, procFS{Dir: p.dir, Self: p.self})
	if tok, _ := got.Token.Token(); err != nil || tok != "typed" {
		t.Errorf("a typed token is still sent: %v", err)
	}
}

// With CheckEvery (the proxy's), the file is looked at once per interval; a
// 401's Reload still reads it at once.
func TestTokenFileCheckEvery(t *testing.T) {
	sa := targettest.NewServiceAccount(t, map[string]string{"token": "one"})
	tokens := NewTokenFile(hostFS{}, sa.Path("token"))
	tokens.CheckEvery(time.Hour)
	if tok, err := tokens.Token(); err != nil || tok != "one" {
		t.Fatalf("%q %v", tok, err)
	}
	sa.Rotate(map[string]string{"token": "two"})
	if tok, _ := tokens.Token(); tok != "one" {
		t.Errorf("within the interval the file is not looked at: %q", tok)
	}
	if changed, err := tokens.Reload(); !changed || err != nil {
		t.Errorf("Reload after a 401: changed %v, %v", changed, err)
	}
	if tok, _ := tokens.Token(); tok != "two" {
		t.Errorf("after Reload: %q", tok)
	}
	tokens.CheckEvery(0)
	sa.Rotate(map[string]string{"token": "three"})
	if tok, _ := tokens.Token(); tok != "three" {
		t.Errorf("without an interval every call looks: %q", tok)
	}
}
