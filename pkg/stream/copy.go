package stream

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// Execer runs a command in the container: Remote.Exec, or a stand-in.
type Execer func(ctx context.Context, command []string, rio IO) error

// CopyFrom copies src (a file or a directory in the container) to the
// local dest, as kubectl cp does: tar in the container, untarred here by
// Untar, which writes nothing outside dest. dest names the copy; a file
// copied onto an existing directory goes into it. The container's tar
// writes its complaints to stderr.
func CopyFrom(ctx context.Context, exec Execer, src, dest string, stderr, notices io.Writer) error {
	dir, base := remoteSplit(src)
	pr, pw := io.Pipe()
	untarred := make(chan error, 1)
	go func() {
		err := Untar(pr, dest, base, notices)
		pr.CloseWithError(err)
		untarred <- err
	}()
	err := exec(ctx, []string{"tar", "cf", "-", "-C", dir, base}, IO{Stdout: pw, Stderr: stderr})
	pw.CloseWithError(err)
	untarErr := <-untarred
	if err != nil {
		return tarError(err, src)
	}
	return untarErr
}

// remoteSplit is the directory tar runs in and the name it archives.
func remoteSplit(src string) (dir, base string) {
	clean := path.Clean(src)
	if clean == "/" {
		return "/", "."
	}
	return path.Dir(clean), path.Base(clean)
}

// tarError says what went wrong in the container's tar: none there at all
// (the image has no tar: kcurl cp cannot work there, as kubectl cp
// cannot), or tar's own failure (which it explained on stderr).
func tarError(err error, remote string) error {
	msg := err.Error()
	var exit *RemoteExitError
	switch {
	case strings.Contains(msg, `"tar"`) && (strings.Contains(msg, "not found") || strings.Contains(msg, "no such file")),
		errors.As(err, &exit) && (exit.Code == 126 || exit.Code == 127):
		return exitcode.With(exitcode.Failed, fmt.Errorf("the container has no tar (kcurl cp, like kubectl cp, runs tar in the container): %s", msg))
	case errors.As(err, &exit):
		return exitcode.With(exitcode.Failed, fmt.Errorf("tar in the container failed on %s (exit code %d)", remote, exit.Code))
	}
	return err
}

// Untar writes the tar stream r under dest: the entry named base becomes
// dest itself, entries under base/ go under dest. It never writes outside
// dest: names that are absolute or climb out (..) are skipped with a
// warning, as are symbolic and hard links (a link then a file through it
// is how a hostile tar escapes: CVE-2019-1002101, CVE-2019-11246,
// CVE-2019-11251), devices and FIFOs; every file is opened through an
// os.Root, which refuses any path that would resolve outside it. File
// modes keep the permission bits only.
func Untar(r io.Reader, dest, base string, notices io.Writer) error {
	tr := tar.NewReader(r)
	var root *os.Root
	var name string // dest's name inside root
	defer func() {
		if root != nil {
			root.Close()
		}
	}()
	warn := func(format string, args ...any) {
		if notices != nil {
			fmt.Fprintf(notices, "warning: "+format+"\n", args...)
		}
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if root == nil {
				return exitcode.With(exitcode.Failed, fmt.Errorf("nothing to copy: the container's tar sent no files"))
			}
			return nil
		}
		if err != nil {
			return exitcode.With(exitcode.Failed, fmt.Errorf("reading the tar stream: %w", err))
		}
		rel, ok := relative(h.Name, base)
		if !ok {
			warn("skipping %q: it is not within the destination", h.Name)
			continue
		}
		if root == nil {
			if root, name, err = openDest(dest, base, h.Typeflag == tar.TypeDir || rel != ""); err != nil {
				return err
			}
		}
		target := name
		if rel != "" {
			target = name + "/" + rel
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(target, 0o755); err != nil {
				return exitcode.With(exitcode.Failed, err)
			}
			if err := root.Chmod(target, fs.FileMode(h.Mode)&fs.ModePerm|0o700); err != nil {
				return exitcode.With(exitcode.Failed, err)
			}
		case tar.TypeReg:
			if err := writeFile(root, target, tr, fs.FileMode(h.Mode)&fs.ModePerm); err != nil {
				return exitcode.With(exitcode.Failed, err)
			}
		case tar.TypeSymlink:
			warn("skipping symlink: %q -> %q", h.Name, h.Linkname)
		case tar.TypeLink:
			warn("skipping hard link: %q -> %q", h.Name, h.Linkname)
		default:
			warn("skipping %q: not a regular file or directory", h.Name)
		}
	}
}

// relative is name's path under base, cleaned; ok is false for a name
// outside base or one that climbs out of it.
func relative(name, base string) (string, bool) {
	if path.IsAbs(name) {
		return "", false
	}
	name = strings.TrimPrefix(name, "./")
	if base == "." {
		name = "./" + name
	}
	var rel string
	switch clean := path.Clean(name); {
	case clean == path.Clean(base):
		return "", true
	case strings.HasPrefix(clean, path.Clean(base)+"/") || base == ".":
		rel = strings.TrimPrefix(clean, path.Clean(base)+"/")
	default:
		return "", false
	}
	// Cleaning base/x/../../y gives y, outside base: the raw name decides.
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false
		}
	}
	if rel == "." {
		return "", true
	}
	return rel, true
}

// openDest opens the directory that holds dest as a root, and returns the
// name dest has in it. A file copied onto an existing directory goes into
// it, under the source's name.
func openDest(dest, base string, isDir bool) (*os.Root, string, error) {
	dest = filepath.Clean(dest)
	if info, err := os.Stat(dest); err == nil && info.IsDir() && !isDir && base != "." {
		dest = filepath.Join(dest, base)
	}
	parent, name := filepath.Split(dest)
	if parent == "" {
		parent = "."
	}
	if name == "" || name == "." || name == ".." {
		// dest is / or a path ending in ..: the copy's name is dest itself.
		parent, name = dest, "."
	}
	root, err := os.OpenRoot(parent)
	if err != nil {
		return nil, "", exitcode.With(exitcode.Failed, fmt.Errorf("the destination's directory: %w", err))
	}
	return root, name, nil
}

func writeFile(root *os.Root, name string, r io.Reader, mode fs.FileMode) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return root.Chmod(name, mode)
}

// CopyTo copies the local src (a file or a directory) to dest in the
// container, as kubectl cp does: a tar stream made here, untarred by tar
// in the container. A dest that ends in / or is a directory there gets
// src inside it. Symbolic links are sent as links; other special files are
// skipped with a warning.
func CopyTo(ctx context.Context, exec Execer, src, dest string, stderr, notices io.Writer) error {
	if _, err := os.Lstat(src); err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	if strings.HasSuffix(dest, "/") || exec(ctx, []string{"test", "-d", dest}, IO{Stdout: io.Discard, Stderr: io.Discard}) == nil {
		dest = path.Join(dest, filepath.Base(filepath.Clean(src)))
	}
	dest = path.Clean(dest)
	dir, base := path.Dir(dest), path.Base(dest)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(Tar(pw, src, base, notices)) }()
	err := exec(ctx, []string{"tar", "-xmf", "-", "-C", dir}, IO{Stdin: pr, Stderr: stderr})
	pr.CloseWithError(errors.New("the container's tar ended"))
	if err != nil {
		return tarError(err, dest)
	}
	return nil
}

// Tar writes src as a tar stream whose entries are named base and
// base/....
func Tar(w io.Writer, src, base string, notices io.Writer) error {
	tw := tar.NewWriter(w)
	src = filepath.Clean(src)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := base
		if rel != "." {
			name = base + "/" + filepath.ToSlash(rel)
		}
		link := ""
		switch {
		case info.Mode().IsRegular(), info.IsDir():
		case info.Mode()&fs.ModeSymlink != 0:
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			if notices != nil {
				fmt.Fprintf(notices, "warning: skipping %s: not a regular file, directory or symlink\n", p)
			}
			return nil
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = name
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return exitcode.With(exitcode.Failed, err)
	}
	return tw.Close()
}
