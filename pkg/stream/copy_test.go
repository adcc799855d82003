package stream

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream/internal/spdyconn"
	"github.com/kcurl/kcurl/pkg/transport"
)

type entry struct {
	name, link, body string
	kind             byte
}

func tarOf(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.kind, Mode: 0o644, Size: int64(len(e.body))}
		if e.kind == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			continue // one archive/tar cannot write (fuzzing): not a stream anyone could send this way
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return &b
}

// files lists every path under dir (relative, / separated, "/" after a
// directory, " -> target" after a link).
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			link, _ := os.Readlink(p)
			rel += " -> " + link
		case d.IsDir():
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out
}

func TestUntarCopiesADirectory(t *testing.T) {
	dir := t.TempDir()
	in := tarOf(t,
		entry{name: "src/", kind: tar.TypeDir},
		entry{name: "src/a.txt", body: "a"},
		entry{name: "src/sub/", kind: tar.TypeDir},
		entry{name: "src/sub/b.txt", body: "b"},
	)
	var notices bytes.Buffer
	if err := Untar(in, filepath.Join(dir, "copy"), "src", &notices); err != nil {
		t.Fatal(err)
	}
	want := []string{"copy/", "copy/a.txt", "copy/sub/", "copy/sub/b.txt"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "copy/sub/b.txt")); string(b) != "b" {
		t.Errorf("b.txt = %q", b)
	}
	if notices.Len() > 0 {
		t.Errorf("notices: %s", notices.String())
	}
}

func TestUntarAFileOntoADirectoryGoesInside(t *testing.T) {
	dir := t.TempDir()
	if err := Untar(tarOf(t, entry{name: "f.txt", body: "x"}), dir, "f.txt", nil); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"f.txt"}) {
		t.Errorf("files %q", got)
	}
}

// A hostile container's tar: every way out of the destination that
// kubectl cp's CVEs used. Nothing may appear outside dest, and each
// refusal is said.
func TestUntarNeverWritesOutsideTheDestination(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
		inside  []string // what dest holds afterwards
		notice  string   // links and devices: named where they would have gone (WORK: the work dir)
	}{
		{"dot-dot names", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/../../escaped", body: "x"},
			{name: "../escaped", body: "x"},
			{name: "src/ok", body: "ok"},
		}, []string{"dest/", "dest/ok"}, `skipping "src/../../escaped"`},
		{"absolute names", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "/tmp/escaped", body: "x"},
			{name: "src//../escaped", body: "x"},
		}, []string{"dest/"}, `skipping "/tmp/escaped"`},
		{"a symlink, then a file through it", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/link", link: "../..", kind: tar.TypeSymlink},
			{name: "src/link/escaped", body: "x"},
		}, []string{"dest/", "dest/link/", "dest/link/escaped"}, `skipping symlink: "WORK/dest/link" -> "../.."`},
		{"an absolute symlink, then a file through it", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/etc", link: "/etc", kind: tar.TypeSymlink},
			{name: "src/etc/escaped", body: "x"},
		}, []string{"dest/", "dest/etc/", "dest/etc/escaped"}, `skipping symlink: "WORK/dest/etc" -> "/etc"`},
		{"two symlinks together", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/a", link: "b/..", kind: tar.TypeSymlink},
			{name: "src/b", link: "..", kind: tar.TypeSymlink},
			{name: "src/a/escaped", body: "x"},
		}, []string{"dest/", "dest/a/", "dest/a/escaped"}, "skipping symlink"},
		{"a hard link to a file outside", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/passwd", link: "/etc/passwd", kind: tar.TypeLink},
		}, []string{"dest/"}, `skipping hard link: "WORK/dest/passwd" -> "/etc/passwd"`},
		{"names beside the source", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "other/escaped", body: "x"},
			{name: "srcx", body: "x"},
		}, []string{"dest/"}, `skipping "other/escaped": it is not within the destination`},
		{"a device", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/null", kind: tar.TypeChar},
		}, []string{"dest/"}, `skipping "WORK/dest/null": not a regular file or directory`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			work := filepath.Join(top, "work")
			os.Mkdir(work, 0o755)
			var notices bytes.Buffer
			err := Untar(tarOf(t, tc.entries...), filepath.Join(work, "dest"), "src", &notices)
			if err != nil {
				t.Fatalf("Untar: %v", err)
			}
			if got := files(t, work); !slices.Equal(got, tc.inside) {
				t.Errorf("work holds %q, want %q", got, tc.inside)
			}
			if got := files(t, top); len(got) != len(tc.inside)+1 {
				t.Errorf("outside the destination: %q", got)
			}
			if said := strings.ReplaceAll(notices.String(), work, "WORK"); !strings.Contains(said, tc.notice) {
				t.Errorf("notices %q do not say %q", said, tc.notice)
			}
		})
	}
}

// A symlink already in the destination that points out of it is not
// followed either.
func TestUntarDoesNotFollowAnExistingLinkOut(t *testing.T) {
	top := t.TempDir()
	outside := filepath.Join(top, "outside")
	os.Mkdir(outside, 0o755)
	dest := filepath.Join(top, "dest")
	os.Mkdir(dest, 0o755)
	os.Symlink(outside, filepath.Join(dest, "sub"))
	err := Untar(tarOf(t, entry{name: "src/", kind: tar.TypeDir}, entry{name: "src/sub/escaped", body: "x"}), dest, "src", nil)
	if err == nil {
		t.Error("Untar wrote through a link out of the destination")
	}
	if got := files(t, outside); len(got) != 0 {
		t.Errorf("outside holds %q", got)
	}
}

func TestTarThenUntarRoundTrips(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "d/e"), 0o755)
	os.WriteFile(filepath.Join(src, "d/e/f"), []byte("deep"), 0o640)
	os.WriteFile(filepath.Join(src, "top"), []byte("top"), 0o755)
	var b bytes.Buffer
	if err := Tar(&b, src, "copy", nil); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if err := Untar(&b, filepath.Join(dest, "out"), "copy", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"out/", "out/d/", "out/d/e/", "out/d/e/f", "out/top"}
	if got := files(t, dest); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if info, _ := os.Stat(filepath.Join(dest, "out/top")); info.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", info.Mode())
	}
}

func TestCopyFromSaysWhenTheContainerHasNoTar(t *testing.T) {
	noTar := func(context.Context, []string, IO) error {
		return errString(`OCI runtime exec failed: exec failed: unable to start container process: exec: "tar": executable file not found in $PATH: unknown`)
	}
	err := Copier{Exec: noTar}.From(context.Background(), "/etc/hosts", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "the container has no tar") {
		t.Errorf("err = %v", err)
	}
}

// container is a stand-in for a container's tar behind a stream that may
// break: each exec is one entry of execs, which gets the command and the
// stream's IO.
type container struct {
	t     *testing.T
	execs []func(command []string, rio IO) error
	ran   [][]string
}

func (c *container) exec(_ context.Context, command []string, rio IO) error {
	c.ran = append(c.ran, command)
	if len(c.ran) > len(c.execs) {
		c.t.Fatalf("exec %d (%q): the test expects %d", len(c.ran), command, len(c.execs))
	}
	return c.execs[len(c.ran)-1](command, rio)
}

// broken is a stream that broke after it started (the connection to the
// apiserver reset): exit 6.
var broken = &transport.NetworkError{Err: errString("read tcp 127.0.0.1:40000->127.0.0.1:443: read: connection reset by peer")}

func TestCopyFromResumesWhereTheStreamBroke(t *testing.T) {
	archive := tarOf(t,
		entry{name: "data/", kind: tar.TypeDir},
		entry{name: "data/big", body: strings.Repeat("0123456789", 10_000)},
		entry{name: "data/small", body: "small"},
	).Bytes()
	cut := int64(30_000)
	c := &container{t: t, execs: []func([]string, IO) error{
		func(_ []string, rio IO) error {
			rio.Stdout.Write(archive[:cut])
			return broken
		},
		func(_ []string, rio IO) error {
			rio.Stdout.Write(archive[cut:])
			return nil
		},
	}}
	dir := t.TempDir()
	var notices bytes.Buffer
	err := Copier{Exec: c.exec, Notices: &notices, Retries: 3}.From(context.Background(), "/srv/it's/data", filepath.Join(dir, "copy"))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"tar", "cf", "-", "-C", "/srv/it's", "data"},
		{"sh", "-c", `tar cf - -C '/srv/it'\''s' 'data' | tail -c+30001`},
	}
	if !slices.EqualFunc(c.ran, want, slices.Equal) {
		t.Errorf("ran %q, want %q", c.ran, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "copy/big")); string(b) != strings.Repeat("0123456789", 10_000) {
		t.Errorf("big has %d bytes, not the 100,000 sent", len(b))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "copy/small")); string(b) != "small" {
		t.Errorf("small = %q", b)
	}
	if got := notices.String(); got != "Resuming copy at 30000 bytes, retry 1/3\n" {
		t.Errorf("notices %q", got)
	}
}

func TestCopyFromGivesUpAfterItsRetries(t *testing.T) {
	archive := tarOf(t, entry{name: "big", body: strings.Repeat("x", 50_000)}).Bytes()
	breaks := func(_ []string, rio IO) error {
		rio.Stdout.Write(archive[:1000])
		return broken
	}
	c := &container{t: t, execs: []func([]string, IO) error{breaks, breaks}}
	var notices bytes.Buffer
	err := Copier{Exec: c.exec, Notices: &notices, Retries: 1}.From(context.Background(), "/big", filepath.Join(t.TempDir(), "big"))
	if code, _ := exitcode.Of(err); !errors.Is(err, broken) || code != exitcode.Network {
		t.Errorf("err = %v (exit %d), want the broken stream's (exit 6)", err, code)
	}
	if got, want := notices.String(), "Resuming copy at 1000 bytes, retry 1/1\nDropping out copy after 1 retries\n"; got != want {
		t.Errorf("notices %q, want %q", got, want)
	}
}

// Without --retries, or when the container's tar itself failed or the
// server refused, nothing is resumed.
func TestCopyFromResumesOnlyABrokenStream(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retries int
		err     error
	}{
		{"no retries", 0, broken},
		{"tar failed", 5, &RemoteExitError{Code: 1}}, // exit 1 as a broken stream is, but final
		{"forbidden", 5, &transport.StatusError{Code: 403, Reason: "Forbidden", Message: "no"}},
		{"refused before any byte", 5, backendDown}, // nothing broke: the server refused the copy
		{"refused in words before any byte", 5, &spdyconn.Refusal{StatusCode: 404, Err: errors.New("unable to upgrade connection: pod does not exist")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &container{t: t, execs: []func([]string, IO) error{func([]string, IO) error { return tc.err }}}
			var notices bytes.Buffer
			err := Copier{Exec: c.exec, Notices: &notices, Retries: tc.retries}.From(context.Background(), "/x", filepath.Join(t.TempDir(), "x"))
			if err == nil || notices.Len() > 0 {
				t.Errorf("err = %v, notices %q", err, notices.String())
			}
		})
	}
}

// backendDown is the apiserver's refusal while the kubelet does not answer
// (restarting): exit 5.
var backendDown = &transport.StatusError{Code: 500, Message: "error dialing backend: dial tcp 10.250.0.1:10250: connect: connection refused"}

// A resumption the server refuses with a 5xx (the kubelet that broke the
// stream is restarting), or the kubelet in words (just restarted, it does
// not know the Pod yet), is a try that failed: the next resumes, a second
// later. The apiserver's 4xx (the Pod gone) ends the copy.
func TestCopyFromRetriesAResumptionTheServerRefused(t *testing.T) {
	archive := tarOf(t, entry{name: "big", body: strings.Repeat("x", 50_000)}).Bytes()
	breaks := func(_ []string, rio IO) error {
		rio.Stdout.Write(archive[:1000])
		return broken
	}
	rest := func(_ []string, rio IO) error {
		rio.Stdout.Write(archive[1000:])
		return nil
	}
	for _, refusal := range []error{
		backendDown,
		&spdyconn.Refusal{StatusCode: 404, Err: errors.New("unable to upgrade connection: pod does not exist")},
	} {
		refused := func([]string, IO) error { return refusal }
		c := &container{t: t, execs: []func([]string, IO) error{breaks, refused, rest}}
		dest := filepath.Join(t.TempDir(), "big")
		var notices bytes.Buffer
		if err := (Copier{Exec: c.exec, Notices: &notices, Retries: 3}).From(context.Background(), "/big", dest); err != nil {
			t.Fatalf("refused with %v: %v", refusal, err)
		}
		if b, _ := os.ReadFile(dest); len(b) != 50_000 {
			t.Errorf("refused with %v: big has %d bytes, want 50,000", refusal, len(b))
		}
		if got, want := notices.String(), "Resuming copy at 1000 bytes, retry 1/3\nResuming copy at 1000 bytes, retry 2/3\n"; got != want {
			t.Errorf("refused with %v: notices %q, want %q", refusal, got, want)
		}
	}

	gone := func([]string, IO) error {
		return &transport.StatusError{Code: 404, Reason: "NotFound", Message: `pods "web" not found`}
	}
	c := &container{t: t, execs: []func([]string, IO) error{breaks, gone}}
	var notices bytes.Buffer
	err := Copier{Exec: c.exec, Notices: &notices, Retries: 3}.From(context.Background(), "/big", filepath.Join(t.TempDir(), "big"))
	if code, _ := exitcode.Of(err); code != exitcode.HTTP4xx {
		t.Errorf("err = %v (exit %d), want the 404's (exit 4)", err, code)
	}
	if got, want := notices.String(), "Resuming copy at 1000 bytes, retry 1/3\n"; got != want {
		t.Errorf("notices %q, want %q", got, want)
	}
}

func TestCopyFromSaysAResumeNeedsShAndTail(t *testing.T) {
	archive := tarOf(t, entry{name: "big", body: strings.Repeat("x", 50_000)}).Bytes()
	c := &container{t: t, execs: []func([]string, IO) error{
		func(_ []string, rio IO) error {
			rio.Stdout.Write(archive[:1000])
			return broken
		},
		func([]string, IO) error {
			return errString(`OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown`)
		},
	}}
	err := Copier{Exec: c.exec, Notices: io.Discard, Retries: 1}.From(context.Background(), "/big", filepath.Join(t.TempDir(), "big"))
	if err == nil || !strings.Contains(err.Error(), "resuming the copy needs sh and tail in the container") {
		t.Errorf("err = %v", err)
	}
}

// A file that could not be read here is the error, not the container's
// tar choking on the archive cut short.
func TestCopyToSaysWhichLocalFileFailed(t *testing.T) {
	src := filepath.Join(t.TempDir(), "log")
	os.WriteFile(src, bytes.Repeat([]byte("x"), 1<<20), 0o644)
	c := &container{t: t, execs: []func([]string, IO) error{
		func([]string, IO) error { return &RemoteExitError{Code: 1} }, // test -d: not a directory
		func(_ []string, rio IO) error {
			// Tar is at most one buffer ahead of what is read here: the
			// file shrinks before it could send the rest.
			tr := tar.NewReader(rio.Stdin)
			if _, err := tr.Next(); err != nil {
				t.Errorf("the archive's first header: %v", err)
			}
			os.Truncate(src, 0)
			io.Copy(io.Discard, rio.Stdin)
			return &RemoteExitError{Code: 1} // busybox: "tar: short read"
		},
	}}
	err := Copier{Exec: c.exec}.To(context.Background(), src, "/tmp/log")
	if err == nil || !strings.Contains(err.Error(), src+": file shrank by ") {
		t.Errorf("err = %v, want the file that shrank", err)
	}
}

// A file that grows while it is sent (a log being written) goes as it was
// when its header was written, with a warning.
func TestCopyToSendsAGrowingFileAsItWas(t *testing.T) {
	src := filepath.Join(t.TempDir(), "log")
	os.WriteFile(src, []byte("first line\n"), 0o644)
	var got []byte
	c := &container{t: t, execs: []func([]string, IO) error{
		func([]string, IO) error { return &RemoteExitError{Code: 1} },
		func(_ []string, rio IO) error {
			tr := tar.NewReader(rio.Stdin)
			if _, err := tr.Next(); err != nil {
				t.Errorf("the archive's first header: %v", err)
			}
			f, _ := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("second line\n")
			f.Close()
			got, _ = io.ReadAll(tr)
			io.Copy(io.Discard, rio.Stdin)
			return nil
		},
	}}
	var notices bytes.Buffer
	if err := (Copier{Exec: c.exec, Notices: &notices}).To(context.Background(), src, "/tmp/log"); err != nil {
		t.Fatal(err)
	}
	if string(got) != "first line\n" {
		t.Errorf("the container got %q", got)
	}
	if !strings.Contains(notices.String(), "file changed as we read it (its first 11 bytes are sent)") {
		t.Errorf("notices %q", notices.String())
	}
}

// kubectl cp asks the container whether dest is a directory, trailing
// slash or not: one that is not there names the copy.
func TestCopyToAsksWhetherTheDestinationIsADirectory(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("f"), 0o644)
	for _, tc := range []struct {
		dest  string
		isDir bool
		want  []string
	}{
		{"/in/new/", false, []string{"tar", "-xmf", "-", "-C", "/in"}},
		{"/in/there", true, []string{"tar", "-xmf", "-", "-C", "/in/there"}},
	} {
		var names []string
		c := &container{t: t, execs: []func([]string, IO) error{
			func([]string, IO) error {
				if tc.isDir {
					return nil
				}
				return &RemoteExitError{Code: 1}
			},
			func(_ []string, rio IO) error {
				tr := tar.NewReader(rio.Stdin)
				for h, err := tr.Next(); err == nil; h, err = tr.Next() {
					names = append(names, h.Name)
				}
				return nil
			},
		}}
		if err := (Copier{Exec: c.exec}).To(context.Background(), src, tc.dest); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.ran[0], []string{"test", "-d", tc.dest}) || !slices.Equal(c.ran[1], tc.want) {
			t.Errorf("%s: ran %q", tc.dest, c.ran)
		}
		base := path.Base(tc.dest)
		if tc.isDir {
			base = filepath.Base(src)
		}
		if want := []string{base, base + "/f"}; !slices.Equal(names, want) {
			t.Errorf("%s: sent %q, want %q", tc.dest, names, want)
		}
	}
}

func TestCopyToWithoutPreserving(t *testing.T) {
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("f"), 0o640)
	c := &container{t: t, execs: []func([]string, IO) error{
		func([]string, IO) error { return &RemoteExitError{Code: 1} },
		func(_ []string, rio IO) error { io.Copy(io.Discard, rio.Stdin); return nil },
	}}
	if err := (Copier{Exec: c.exec, NoPreserve: true}).To(context.Background(), src, "/tmp/f"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", "/tmp"}; !slices.Equal(c.ran[1], want) {
		t.Errorf("ran %q, want %q", c.ran[1], want)
	}
}

// A local file that is not there is exit 2 in kubectl's words, and not a
// UsageError: the command was typed right, the help would not help.
func TestCopyToAMissingFileIsExit2(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	err := Copier{}.To(context.Background(), missing, "/tmp/x")
	if code, _ := exitcode.Of(err); code != exitcode.Usage || err.Error() != missing+" doesn't exist in local filesystem" {
		t.Errorf("err = %v (exit %d)", err, code)
	}
	if errors.As(err, new(*exitcode.UsageError)) {
		t.Errorf("err = %v is a UsageError, which points at the help", err)
	}
}

// withUmask runs the test under umask mask (Go's tests of a package run
// one at a time unless they say t.Parallel).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// New files and directories get the modes sent less the umask, as tar
// gives them to a user who is not root; what is already there keeps its
// own; without keeping modes, kubectl's 0666 and 0777.
func TestUntarModes(t *testing.T) {
	withUmask(t, 0o027)
	archive := func() io.Reader {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Name: "src/", Typeflag: tar.TypeDir, Mode: 0o777})
		tw.WriteHeader(&tar.Header{Name: "src/open/", Typeflag: tar.TypeDir, Mode: 0o777})
		tw.WriteHeader(&tar.Header{Name: "src/shut/", Typeflag: tar.TypeDir, Mode: 0o500})
		for _, f := range []struct {
			name string
			mode int64
		}{{"src/run", 0o4777}, {"src/ro", 0o444}, {"src/old", 0o666}} {
			tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: f.mode, Size: 1})
			tw.Write([]byte("x"))
		}
		tw.Close()
		return &b
	}
	for _, tc := range []struct {
		keep bool
		want map[string]fs.FileMode
	}{
		{true, map[string]fs.FileMode{"": 0o755, "open": 0o750, "shut": 0o700, "run": 0o750, "ro": 0o440, "old": 0o600}},
		{false, map[string]fs.FileMode{"": 0o755, "open": 0o750, "shut": 0o750, "run": 0o640, "ro": 0o640, "old": 0o600}},
	} {
		dest := filepath.Join(t.TempDir(), "dest")
		os.Mkdir(dest, 0o700)
		os.Chmod(dest, 0o755)
		os.WriteFile(filepath.Join(dest, "old"), nil, 0o600)
		if err := untar(archive(), dest, "src", nil, tc.keep); err != nil {
			t.Fatal(err)
		}
		for name, want := range tc.want {
			info, err := os.Stat(filepath.Join(dest, name))
			if err != nil || info.Mode().Perm() != want || info.Mode()&fs.ModeSetuid != 0 {
				t.Errorf("keep modes %v: %q is %v (%v), want %v", tc.keep, name, info.Mode(), err, want)
			}
		}
	}
}

// The destination is the user's own path: its missing parents are made
// (kubectl cp makes them), and a link it is, to a file or a directory
// elsewhere, is followed, as cp follows it.
func TestUntarDestinationIsTheUsersOwnPath(t *testing.T) {
	top := t.TempDir()
	if err := Untar(tarOf(t, entry{name: "f", body: "f"}), filepath.Join(top, "a/b/c"), "f", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(top, "a/b/c")); string(b) != "f" {
		t.Errorf("a/b/c = %q", b)
	}

	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "target"), []byte("old"), 0o644)
	os.Symlink(filepath.Join(elsewhere, "target"), filepath.Join(top, "file-link"))
	os.Symlink(elsewhere, filepath.Join(top, "dir-link"))
	if err := Untar(tarOf(t, entry{name: "f", body: "new"}), filepath.Join(top, "file-link"), "f", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(elsewhere, "target")); string(b) != "new" {
		t.Errorf("through the link to a file: %q", b)
	}
	if err := Untar(tarOf(t, entry{name: "f", body: "inside"}), filepath.Join(top, "dir-link"), "f", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(elsewhere, "f")); string(b) != "inside" {
		t.Errorf("through the link to a directory: %q", b)
	}
}

// A file in the way of the copy is named as the user named it, not by
// its name inside the root the copy writes through.
func TestUntarNamesTheLocalPathInTheWay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
		dest    string // under DIR, a directory holding the file "file"
		want    string
	}{
		{"a directory onto a file", []entry{{name: "src/", kind: tar.TypeDir}, {name: "src/f", body: "f"}}, "file", "DIR/file: not a directory"},
		{"a destination under a file", []entry{{name: "src/", kind: tar.TypeDir}}, "file/x", "DIR/file: not a directory"},
		{"a file under a file", []entry{{name: "src/", kind: tar.TypeDir}, {name: "src/file/f", body: "f"}}, ".", "DIR/file/f: not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "file"), []byte("mine"), 0o644)
			err := Untar(tarOf(t, tc.entries...), filepath.Join(dir, tc.dest), "src", nil)
			if code, _ := exitcode.Of(err); err == nil || strings.ReplaceAll(err.Error(), dir, "DIR") != tc.want || code != exitcode.Failed {
				t.Errorf("err = %v (exit %d), want %q (exit 1)", err, code, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "file")); string(b) != "mine" {
				t.Errorf("the file in the way now holds %q", b)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }
