package discovery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
)

// DefaultTTL is how long a cached discovery answer is trusted. Short: a CRD
// installed a minute ago should be usable now, and a name the cache does not
// know triggers a fresh fetch anyway.
const DefaultTTL = 5 * time.Minute

// Client resolves names against the server's discovery, once per
// invocation, through an on-disk cache when one is writable.
type Client struct {
	// API sends discovery's requests: the command's one client.
	API *apiclient.Client
	// CacheDir holds one file per server; "" disables the cache. Errors
	// writing it are ignored: a read-only filesystem works, only slower.
	CacheDir string
	TTL      time.Duration
	Now      func() time.Time

	index     *Index
	fromCache bool
}

type cacheFile struct {
	Server    string    `json:"server"`
	FetchedAt time.Time `json:"fetchedAt"`
	Index
}

func (c *Client) cachePath() string {
	sum := sha256.Sum256([]byte(c.API.Server.String()))
	return filepath.Join(c.CacheDir, hex.EncodeToString(sum[:12])+".json")
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Index returns the server's resources, from the cache when it is fresh.
func (c *Client) Index(ctx context.Context) (*Index, error) {
	if c.index != nil {
		return c.index, nil
	}
	if idx := c.load(); idx != nil {
		c.index, c.fromCache = idx, true
		return idx, nil
	}
	return c.refresh(ctx)
}

func (c *Client) refresh(ctx context.Context) (*Index, error) {
	idx, err := Fetch(ctx, c.API)
	if err != nil {
		return nil, err
	}
	c.index, c.fromCache = idx, false
	c.store(idx)
	return idx, nil
}

// Lookup resolves a kubectl-style name; a name the cached answer does not
// know is looked up once more in a fresh one.
func (c *Client) Lookup(ctx context.Context, name string) ([]Resource, error) {
	idx, err := c.Index(ctx)
	if err != nil {
		return nil, err
	}
	found, err := idx.Lookup(name)
	var unknown *UnknownError
	if errors.As(err, &unknown) && c.fromCache {
		if idx, err = c.refresh(ctx); err != nil {
			return nil, err
		}
		return idx.Lookup(name)
	}
	return found, err
}

func (c *Client) load() *Index {
	if c.CacheDir == "" || !trusted(c.cachePath()) {
		return nil
	}
	b, err := os.ReadFile(c.cachePath())
	if err != nil {
		return nil
	}
	var f cacheFile
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if json.Unmarshal(b, &f) != nil || f.Server != c.API.Server.String() || c.now().Sub(f.FetchedAt) > ttl || c.now().Before(f.FetchedAt) {
		return nil
	}
	return &f.Index
}

func (c *Client) store(idx *Index) {
	if c.CacheDir == "" {
		return
	}
	b, err := json.Marshal(cacheFile{Server: c.API.Server.String(), FetchedAt: c.now(), Index: *idx})
	if err != nil || os.MkdirAll(c.CacheDir, 0o700) != nil || !trusted(c.CacheDir) {
		return
	}
	tmp, err := os.CreateTemp(c.CacheDir, ".discovery-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.cachePath()) != nil {
		os.Remove(tmp.Name())
	}
}

// trusted reports whether the cache at path (a file or the cache dir) is
// the user's own: owned by us, writable by no one else, and so is every
// directory above it (after links), up to the root, each owned by us or by
// root (a root-owned sticky dir such as /tmp may be writable by all: no one
// else can replace what is ours in it). Anyone else who could write there
// could point `configmaps` at `secrets`; such a cache is not used (nor
// written), only slower.
func trusted(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	uid := uint32(os.Geteuid())
	for p := real; ; p = filepath.Dir(p) {
		info, err := os.Lstat(p)
		if err != nil {
			return false
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		othersWrite := info.Mode().Perm()&0o022 != 0
		switch {
		case p == real && st.Uid != uid: // the cache itself is ours alone
			return false
		case st.Uid != uid && st.Uid != 0:
			return false
		case othersWrite && !(info.IsDir() && info.Mode()&os.ModeSticky != 0 && st.Uid == 0 && p != real):
			return false
		}
		if parent := filepath.Dir(p); parent == p {
			return true
		}
	}
}
