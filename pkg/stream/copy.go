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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/stream/internal/spdyconn"
	"github.com/kcurl/kcurl/pkg/transport"
)

// Execer runs a command in the container: Remote.Exec, or a stand-in.
type Execer func(ctx context.Context, command []string, rio IO) error

// Copier copies files to and from a container as kubectl cp does: tar in
// the container, run through Exec.
type Copier struct {
	Exec Execer
	// Stderr takes the container's tar's complaints, Notices kcurl's own
	// (entries skipped, a copy resumed).
	Stderr, Notices io.Writer
	// NoPreserve is kubectl cp's --no-preserve: tar in the container gives
	// what it unpacks its own user and default modes, not those sent; and
	// here, new files get 0666 and directories 0777 (less the umask), not
	// the container's modes.
	NoPreserve bool
	// Retries is kubectl cp's --retries: a copy from the container whose
	// stream breaks is resumed where it broke, up to Retries times (a
	// negative number: until it completes).
	Retries int
}

// From copies src (a file or a directory in the container) to the local
// dest, as kubectl cp does: tar in the container, untarred here (Untar),
// writing nothing outside dest. dest names the copy; a file copied onto an
// existing directory goes into it; dest's missing parents are made.
func (c Copier) From(ctx context.Context, src, dest string) error {
	dir, base := remoteSplit(src)
	pr, pw := io.Pipe()
	untarred := make(chan struct{})
	var untarErr error
	go func() {
		untarErr = untar(pr, dest, base, c.Notices, !c.NoPreserve)
		pr.CloseWithError(untarErr)
		close(untarred)
	}()
	received := &countingWriter{w: pw}
	command := []string{"tar", "cf", "-", "-C", dir, base}
	resumed := false
	var err error
	for retry := 1; ; retry++ {
		err = c.Exec(ctx, command, IO{Stdout: received, Stderr: c.Stderr})
		if !c.resumable(ctx, err, untarred, resumed) {
			break
		}
		if c.Retries >= 0 && retry > c.Retries {
			if c.Retries > 0 {
				c.notice("Dropping out copy after %d retries", c.Retries)
			}
			break
		}
		c.notice("Resuming copy at %d bytes, retry %s", received.n, c.count(retry))
		if retry > 1 && !sleep(ctx, time.Second) {
			break
		}
		// The same archive again, from the first byte not yet received
		// (tail counts from 1), as kubectl cp --retries resumes.
		command = []string{"sh", "-c", fmt.Sprintf("tar cf - -C %s %s | tail -c+%d", shellQuote(dir), shellQuote(base), received.n+1)}
		resumed = true
	}
	select {
	case <-untarred:
		if untarErr != nil {
			return untarErr // it failed first (a full disk, say): the cause
		}
	default:
	}
	pw.CloseWithError(err)
	<-untarred
	if err != nil {
		return tarError(err, src, resumed)
	}
	return untarErr
}

func (c Copier) notice(format string, args ...any) {
	if c.Notices != nil {
		fmt.Fprintf(c.Notices, format+"\n", args...)
	}
}

// count is retry against the limit: "2/5", or "2" with none.
func (c Copier) count(retry int) string {
	if c.Retries < 0 {
		return strconv.Itoa(retry)
	}
	return fmt.Sprintf("%d/%d", retry, c.Retries)
}

// resumable: err broke the stream of a copy that still wants more, and
// trying again could mend it. The container's tar failing (its exit
// code), the server's refusal, the user stopping kcurl or the untar
// failing here are final; but a resumption that the server refuses with
// a 5xx (the kubelet that broke the stream still restarting: "error
// dialing backend"), or that the kubelet refuses in words (just
// restarted, it says "pod does not exist" until it has synced its Pods),
// is a try that failed, and the next may reach it. The apiserver's own
// 4xx (the Pod gone, Forbidden) is a Status, and final.
func (c Copier) resumable(ctx context.Context, err error, untarred <-chan struct{}, resuming bool) bool {
	if err == nil || c.Retries == 0 || ctx.Err() != nil {
		return false
	}
	select {
	case <-untarred:
		return false
	default:
	}
	code, _ := exitcode.Of(err)
	if errors.As(err, new(*RemoteExitError)) {
		return false
	}
	if errors.As(err, new(*spdyconn.Refusal)) { // in words: Classify made a Status a StatusError
		return resuming
	}
	if errors.As(err, new(*transport.StatusError)) {
		return resuming && code == exitcode.HTTP5xx
	}
	return code == exitcode.Network || code == exitcode.Failed
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// countingWriter counts what w took.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// shellQuote is s as one word of sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
// cannot), or tar's own failure (which it explained on stderr). A resumed
// copy runs sh and tail as well, which an image with tar may lack.
func tarError(err error, remote string, resumed bool) error {
	msg := err.Error()
	var exit *RemoteExitError
	notRun := errors.As(err, &exit) && (exit.Code == 126 || exit.Code == 127)
	notThere := func(command string) bool {
		return strings.Contains(msg, `"`+command+`"`) && (strings.Contains(msg, "not found") || strings.Contains(msg, "no such file"))
	}
	switch {
	case resumed && (notRun || notThere("sh")):
		return exitcode.With(exitcode.Failed, fmt.Errorf("resuming the copy needs sh and tail in the container, as kubectl cp --retries does: %s", msg))
	case notRun || notThere("tar"):
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
// os.Root, which refuses any path that would resolve outside it. A new
// file or directory gets the permission bits sent (no setuid), less the
// umask, as tar and cp give them to a user who is not root; a file already
// there keeps its own, as cp leaves it.
func Untar(r io.Reader, dest, base string, notices io.Writer) error {
	return untar(r, dest, base, notices, true)
}

// untar is Untar; without keepModes, new files get 0666 and directories
// 0777 (less the umask), as kubectl cp's do.
func untar(r io.Reader, dest, base string, notices io.Writer, keepModes bool) error {
	tr := tar.NewReader(r)
	var root *os.Root
	var name string  // dest's name inside root
	var shown string // dest as the user knows it, for the warnings
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
			if root, name, shown, err = openDest(dest, base, h.Typeflag == tar.TypeDir || rel != ""); err != nil {
				return err
			}
		}
		target := name
		if rel != "" {
			target = name + "/" + rel
		}
		dirMode, fileMode := fs.FileMode(0o777), fs.FileMode(0o666)
		if keepModes {
			dirMode = fs.FileMode(h.Mode)&fs.ModePerm | 0o700 // the copy goes on inside it
			fileMode = fs.FileMode(h.Mode) & fs.ModePerm
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := makeDir(root, target, dirMode); err != nil {
				return localError(filepath.Join(shown, rel), err)
			}
		case tar.TypeReg:
			if err := writeFile(root, target, tr, fileMode); err != nil {
				return localError(filepath.Join(shown, rel), err)
			}
		// Skipped where it would have gone, as kubectl cp names it.
		case tar.TypeSymlink:
			warn("skipping symlink: %q -> %q", filepath.Join(shown, rel), h.Linkname)
		case tar.TypeLink:
			warn("skipping hard link: %q -> %q", filepath.Join(shown, rel), h.Linkname)
		default:
			warn("skipping %q: not a regular file or directory", filepath.Join(shown, rel))
		}
	}
}

// localError is err from writing the local path shown, named as the user
// knows it: the root's own path in err ("mkdirat r1") is relative to a
// directory the user never named. The copy only ever makes directories
// where something may already be, so "file exists" means a file is where
// a directory goes.
func localError(shown string, err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	if errors.Is(err, fs.ErrExist) {
		err = syscall.ENOTDIR
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("%s: %w", shown, err))
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
// name dest has in it, and dest as the user knows it (before links are
// followed). A file copied onto an existing directory goes into it, under
// the source's name. dest is the user's own path: its missing parents are
// made, as kubectl cp makes them, and a symbolic link it is (or passes
// through) is followed, as cp follows it; only what the tar stream names
// is held inside.
func openDest(dest, base string, isDir bool) (root *os.Root, name, shown string, err error) {
	dest = filepath.Clean(dest)
	if info, err := os.Stat(dest); err == nil && info.IsDir() && !isDir && base != "." {
		dest = filepath.Join(dest, base)
	}
	shown = dest
	if real, err := filepath.EvalSymlinks(dest); err == nil {
		dest = real
	}
	parent, name := filepath.Split(dest)
	if parent == "" {
		parent = "."
	}
	if name == "" || name == "." || name == ".." {
		// dest is / or a path ending in ..: the copy's name is dest itself.
		parent, name = dest, "."
	}
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return nil, "", "", localError(filepath.Clean(parent), err)
	}
	root, err = os.OpenRoot(parent)
	if err != nil {
		return nil, "", "", exitcode.With(exitcode.Failed, fmt.Errorf("the destination's directory: %w", err))
	}
	return root, name, shown, nil
}

// makeDir makes the directory name with mode (less the umask), and its
// missing parents; one already there is kept as it is.
func makeDir(root *os.Root, name string, mode fs.FileMode) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o777); err != nil {
			return err
		}
	}
	err := root.Mkdir(name, mode)
	if errors.Is(err, fs.ErrExist) {
		if info, statErr := root.Stat(name); statErr == nil && info.IsDir() {
			return nil
		}
	}
	return err
}

// writeFile writes r to the file name, made with mode (less the umask) if
// it is new, truncated if it is not.
func writeFile(root *os.Root, name string, r io.Reader, mode fs.FileMode) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o777); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// To copies the local src (a file or a directory) to dest in the
// container, as kubectl cp does: a tar stream made here, untarred by tar
// in the container. A dest that is a directory there gets src inside it;
// any other names the copy. Symbolic links are sent as links; other
// special files are skipped with a warning.
func (c Copier) To(ctx context.Context, src, dest string) error {
	if err := CheckSource(src); err != nil {
		return err
	}
	if c.Exec(ctx, []string{"test", "-d", dest}, IO{Stdout: io.Discard, Stderr: io.Discard}) == nil {
		dest = path.Join(dest, filepath.Base(filepath.Clean(src)))
	}
	dest = path.Clean(dest)
	dir, base := path.Dir(dest), path.Base(dest)
	pr, pw := io.Pipe()
	tarred := make(chan error, 1)
	go func() {
		err := Tar(pw, src, base, c.Notices)
		pw.CloseWithError(err)
		tarred <- err
	}()
	command := []string{"tar", "-xmf", "-", "-C", dir}
	if c.NoPreserve {
		command = []string{"tar", "--no-same-permissions", "--no-same-owner", "-xmf", "-", "-C", dir}
	}
	err := c.Exec(ctx, command, IO{Stdin: pr, Stderr: c.Stderr})
	pr.CloseWithError(errContainerTarEnded)
	// A file here that could not be read cut the stream short, and the
	// container's tar, which may take a cut archive for a whole one, says
	// nothing of why: that file is the error.
	if tarErr := <-tarred; tarErr != nil && !errors.Is(tarErr, errContainerTarEnded) {
		return tarErr
	}
	if err != nil {
		return tarError(err, dest, false)
	}
	return nil
}

// CheckSource: the local src of a copy to a container is there (exit 2 in
// kubectl's words if not, with no pointer at the help, as kubectl gives
// none).
func CheckSource(src string) error {
	_, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return exitcode.Targetf("%s doesn't exist in local filesystem", src)
	}
	return exitcode.With(exitcode.Failed, err)
}

// errContainerTarEnded is what the tar stream made here meets when the
// container's tar stopped taking it.
var errContainerTarEnded = errors.New("the container's tar ended")

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
			return tarFile(tw, p, h.Size, notices)
		}
		return nil
	})
	if err != nil {
		return exitcode.With(exitcode.Failed, err)
	}
	return tw.Close()
}

// tarFile writes the size bytes of the file p that its header promised. A
// file that grew since (a log being written) is sent as it was, with a
// warning, as GNU tar sends it; one that shrank cannot fill its entry.
func tarFile(tw *tar.Writer, p string, size int64, notices io.Writer) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.CopyN(tw, f, size)
	switch {
	case err == io.EOF:
		return fmt.Errorf("%s: file shrank by %d bytes while it was read", p, size-n)
	case err != nil:
		return err
	}
	if grew, _ := f.Read(make([]byte, 1)); grew > 0 && notices != nil {
		fmt.Fprintf(notices, "warning: %s: file changed as we read it (its first %d bytes are sent)\n", p, size)
	}
	return nil
}
