package stream

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
		notice  string
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
		}, []string{"dest/", "dest/link/", "dest/link/escaped"}, `skipping symlink: "src/link" -> "../.."`},
		{"an absolute symlink, then a file through it", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/etc", link: "/etc", kind: tar.TypeSymlink},
			{name: "src/etc/escaped", body: "x"},
		}, []string{"dest/", "dest/etc/", "dest/etc/escaped"}, `skipping symlink: "src/etc" -> "/etc"`},
		{"two symlinks together", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/a", link: "b/..", kind: tar.TypeSymlink},
			{name: "src/b", link: "..", kind: tar.TypeSymlink},
			{name: "src/a/escaped", body: "x"},
		}, []string{"dest/", "dest/a/", "dest/a/escaped"}, "skipping symlink"},
		{"a hard link to a file outside", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/passwd", link: "/etc/passwd", kind: tar.TypeLink},
		}, []string{"dest/"}, `skipping hard link: "src/passwd" -> "/etc/passwd"`},
		{"names beside the source", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "other/escaped", body: "x"},
			{name: "srcx", body: "x"},
		}, []string{"dest/"}, `skipping "other/escaped": it is not within the destination`},
		{"a device", []entry{
			{name: "src/", kind: tar.TypeDir},
			{name: "src/null", kind: tar.TypeChar},
		}, []string{"dest/"}, `skipping "src/null": not a regular file or directory`},
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
			if !strings.Contains(notices.String(), tc.notice) {
				t.Errorf("notices %q do not say %q", notices.String(), tc.notice)
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
	err := CopyFrom(context.Background(), noTar, "/etc/hosts", t.TempDir(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "the container has no tar") {
		t.Errorf("err = %v", err)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
