package target

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fileSystem is where credential files are read from: the host's own files,
// or (for ephemeral containers) another process's root. Open opens a file
// for reading without blocking (a FIFO or a device opens at once, to be
// refused by what it is, never waited on), following links only within
// the file system's root; the caller reads size, kind and content from the
// one open file, so nothing can be swapped between looking and reading.
type fileSystem interface {
	Open(name string) (fs.File, error)
}

type hostFS struct{}

func (hostFS) Open(name string) (fs.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// maxCredentialFile bounds a token, CA bundle or namespace file: a projected
// token is about 1 KB, a CA bundle (even every public root) some 200 KB.
// Anything bigger is not a credential, and is not read into memory.
const maxCredentialFile = 1 << 20

// statFile is the FileInfo of name, opened as a credential is.
func statFile(fsys fileSystem, name string) (fs.FileInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// readFile reads a whole credential file, refusing what cannot be one.
func readFile(fsys fileSystem, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readCredential(f, info)
}

// checkCredential refuses a file that is not a regular file of sane size.
func checkCredential(info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s, not a regular file: credentials are read only from regular files", fileKind(info.Mode()))
	}
	if info.Size() > maxCredentialFile {
		return fmt.Errorf("%d bytes, more than the 1 MiB a credential file may hold", info.Size())
	}
	return nil
}

// readCredential reads f, whose info says it may be read; a file that grows
// past the limit meanwhile is refused too.
func readCredential(f io.Reader, info fs.FileInfo) ([]byte, error) {
	if err := checkCredential(info); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCredentialFile {
		return nil, errors.New("more than the 1 MiB a credential file may hold")
	}
	return b, nil
}

func fileKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode.IsDir():
		return "a directory"
	}
	return "not a plain file (" + mode.Type().String() + ")"
}

// stamp identifies one version of a file. The kubelet rotates projected
// tokens by writing a new directory and renaming the `..data` symlink over the
// old one, so the path stays while the inode behind it changes; comparing
// inode, size and mtime after following links notices every rotation.
type stamp struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func stampOf(info fs.FileInfo) stamp {
	s := stamp{size: info.Size(), mtime: info.ModTime()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(st.Dev), st.Ino
	}
	return s
}

// watchedFile re-reads a file when its stamp changes; safe for concurrent use.
type watchedFile struct {
	path string
	fs   fileSystem

	mu      sync.Mutex
	current stamp
	loaded  bool
}

// read returns the file's content when it differs from the version last
// loaded, or always with force; nil when it is unchanged. The caller records
// the stamp once it accepts the content.
//
// Following token -> ..data/token is not atomic: a lookup that went through
// the old `..data` fails with ENOENT when the kubelet removes the old
// directory right after renaming the new link into place. A new lookup goes
// through the new link, so a missing file is looked up again a few times
// before it counts as missing.
func (w *watchedFile) read(force bool) ([]byte, stamp, error) {
	for attempt := 1; ; attempt++ {
		b, s, err := w.readOnce(force)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 3 {
			return b, s, err
		}
	}
}

func (w *watchedFile) readOnce(force bool) ([]byte, stamp, error) {
	f, err := w.fs.Open(w.path)
	if err != nil {
		return nil, stamp{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, stamp{}, err
	}
	if err := checkCredential(info); err != nil {
		return nil, stamp{}, err
	}
	s := stampOf(info)
	if !force && w.loaded && s == w.current {
		return nil, s, nil
	}
	b, err := readCredential(f, info)
	if err != nil {
		return nil, stamp{}, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, s, nil
}

// TokenSource hands out the bearer token for each request.
type TokenSource interface {
	// Token returns the current token, re-reading its file if it changed.
	Token() (string, error)
	// Reload re-reads the token even if its file looks unchanged, after the
	// server rejected it; it reports whether the token is now different.
	Reload() (bool, error)
	// File is the token's path, or "" when it was given literally.
	File() string
}

// StaticToken is a token given on the command line.
type StaticToken string

func (t StaticToken) Token() (string, error) {
	if err := headerSafe(string(t)); err != nil {
		return "", &CredentialsError{What: "--token", Err: err}
	}
	return string(t), nil
}
func (StaticToken) Reload() (bool, error) { return false, nil }
func (StaticToken) File() string          { return "" }

// TokenFile is a token read from a file, kept current as the file rotates.
type TokenFile struct {
	checkEvery time.Duration
	checked    time.Time
	w          watchedFile
	token      string
}

// NewTokenFile reads tokens from path on fsys.
func NewTokenFile(fsys fileSystem, path string) *TokenFile {
	return &TokenFile{w: watchedFile{path: path, fs: fsys}}
}

func (t *TokenFile) File() string { return t.w.path }

func (t *TokenFile) Token() (string, error) {
	t.w.mu.Lock()
	defer t.w.mu.Unlock()
	if t.checkEvery > 0 && t.token != "" && time.Since(t.checked) < t.checkEvery {
		return t.token, nil
	}
	if _, err := t.load(false); err != nil {
		return "", err
	}
	t.checked = time.Now()
	return t.token, nil
}

// CheckEvery lets Token look at the file at most once per d: a proxy
// serving thousands of requests a second need not stat the file for each.
// A rotated token is still picked up within d, and at once after a 401
// (Reload), while the old one is still valid (the kubelet rotates at 80% of
// a token's life).
func (t *TokenFile) CheckEvery(d time.Duration) {
	t.w.mu.Lock()
	defer t.w.mu.Unlock()
	t.checkEvery = d
}

func (t *TokenFile) Reload() (bool, error) {
	t.w.mu.Lock()
	defer t.w.mu.Unlock()
	return t.load(true)
}

// load reads the file if it changed (or with force) and reports whether the
// token did.
func (t *TokenFile) load(force bool) (bool, error) {
	b, s, err := t.w.read(force)
	if err != nil {
		return false, &CredentialsError{What: "token", Path: t.w.path, Err: unwrapPathError(err)}
	}
	if b == nil {
		return false, nil
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return false, &CredentialsError{What: "token", Path: t.w.path, Err: errors.New("the file is empty")}
	}
	if err := headerSafe(token); err != nil {
		return false, &CredentialsError{What: "token", Path: t.w.path, Err: err}
	}
	changed := token != t.token
	t.token, t.w.current, t.w.loaded = token, s, true
	return changed, nil
}

// headerSafe refuses a token that no Authorization header can carry: a line
// break or another control character inside it (exit 3, a bad credential,
// not a network error from net/http refusing the header).
func headerSafe(token string) error {
	for _, r := range token {
		if r < ' ' && r != '\t' || r == 0x7f {
			return fmt.Errorf("a control character (%q) inside it, which no HTTP header can carry", r)
		}
	}
	return nil
}

// CAFile is the certificate bundle the server's certificate is verified
// against, re-read when the file changes (the kubelet updates ca.crt in place
// when the cluster's CA rotates).
type CAFile struct {
	w    watchedFile
	pool *x509.CertPool
	pem  []byte
}

// NewCAFile reads a PEM bundle from path on fsys.
func NewCAFile(fsys fileSystem, path string) *CAFile {
	return &CAFile{w: watchedFile{path: path, fs: fsys}}
}

// Path is the bundle's file name, for messages and --curl.
func (c *CAFile) Path() string { return c.w.path }

// Pool returns the certificates of the current version of the file.
func (c *CAFile) Pool() (*x509.CertPool, error) {
	pool, _, err := c.current()
	return pool, err
}

// PEM returns the bytes of the current version of the file.
func (c *CAFile) PEM() ([]byte, error) {
	_, pem, err := c.current()
	return pem, err
}

func (c *CAFile) current() (*x509.CertPool, []byte, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	b, s, err := c.w.read(false)
	if err != nil {
		return nil, nil, &CredentialsError{What: "CA file", Path: c.w.path, Err: unwrapPathError(err)}
	}
	if b == nil {
		return c.pool, c.pem, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, nil, &CredentialsError{What: "CA file", Path: c.w.path, Err: errors.New("no PEM certificates in it")}
	}
	c.pool, c.pem, c.w.current, c.w.loaded = pool, b, s, true
	return pool, b, nil
}

// unwrapPathError drops the *fs.PathError wrapper, whose path the
// CredentialsError already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
