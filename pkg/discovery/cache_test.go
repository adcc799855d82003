package discovery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kcurl/kcurl/pkg/apiclient"
)

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClient(s *discoveryServer, t *testing.T, dir string, c *clock) *Client {
	return &Client{API: &apiclient.Client{HTTP: s.Client(), Server: s.url(t)}, CacheDir: dir, Now: c.now}
}

// requests counts what reached the server.
func (s *discoveryServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func TestCacheStoresAndReuses(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	dir := filepath.Join(t.TempDir(), "kcurl", "discovery") // made on first use
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}

	first := newClient(s, t, dir, c)
	idx, err := first.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	if _, err := first.Index(context.Background()); err != nil || s.count() != 2 {
		t.Errorf("a second Index in one invocation asked the server again (%d requests, %v)", s.count(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %q, want one", files)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v %v, want mode 0700", fi.Mode(), err)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v %v, want mode 0600", fi.Mode(), err)
	}

	// The next invocation, within the TTL: not a single request.
	c.t = c.t.Add(DefaultTTL - time.Second)
	second := newClient(s, t, dir, c)
	cached, err := second.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("the cached answer was not used: %d requests", n)
	}
	if len(cached.Resources) != len(idx.Resources) || !slices.EqualFunc(cached.Resources, idx.Resources, func(a, b Resource) bool {
		return a.Group == b.Group && a.Version == b.Version && a.Name == b.Name && a.Preferred == b.Preferred &&
			slices.Equal(a.Subresources, b.Subresources) && slices.Equal(a.ShortNames, b.ShortNames)
	}) {
		t.Errorf("the cached index differs:\n got %+v\nwant %+v", cached.Resources, idx.Resources)
	}
	if found, err := second.Lookup(context.Background(), "deploy"); err != nil || id(found[0]) != "deployments.apps/v1" || s.count() != 2 {
		t.Errorf("Lookup from the cache: %v %v, %d requests", found, err, s.count())
	}
}

func TestCacheExpires(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil {
		t.Fatal(err)
	}

	c.t = c.t.Add(DefaultTTL + time.Second)
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := s.count(); n != 4 {
		t.Errorf("after the TTL: %d requests, want 4 (fetched again)", n)
	}

	// The fresh answer was stored: used again within its own TTL.
	c.t = c.t.Add(time.Minute)
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil || s.count() != 4 {
		t.Errorf("the refreshed cache was not used: %d requests, %v", s.count(), err)
	}

	// A TTL of its own.
	short := newClient(s, t, dir, c)
	short.TTL = 30 * time.Second
	if _, err := short.Index(context.Background()); err != nil || s.count() != 6 {
		t.Errorf("a 30s TTL after a minute: %d requests, want 6", s.count())
	}

	// A clock that went back is no reason to trust a file from the future.
	c.t = c.t.Add(-time.Hour)
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil || s.count() != 8 {
		t.Errorf("a cache file from the future: %d requests, want 8", s.count())
	}
}

func TestCacheIsPerServer(t *testing.T) {
	a := newDiscoveryServer(t, aggregatedRoutes(t))
	b := newDiscoveryServer(t, classicRoutes())
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if _, err := newClient(a, t, dir, c).Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	idx, err := newClient(b, t, dir, c).Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.count() == 0 {
		t.Errorf("another server's cached answer was used")
	}
	if len(find(idx, "", "services")) != 0 || len(find(idx, "", "pods")) != 1 {
		t.Errorf("the index is not server b's: %+v", idx.Resources)
	}

	// A file for another server under this server's name (a hash
	// collision, a copied cache dir) is not trusted either.
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("cache files %q, want one per server", files)
	}
	bFile := newClient(b, t, dir, c).cachePath()
	aFile := newClient(a, t, dir, c).cachePath()
	data, err := os.ReadFile(aFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := b.count()
	if _, err := newClient(b, t, dir, c).Index(context.Background()); err != nil || b.count() == before {
		t.Errorf("server a's answer was taken for server b's (%v)", err)
	}
}

func TestCacheCorruptFileIsIgnored(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	client := newClient(s, t, dir, c)
	if err := os.WriteFile(client.cachePath(), []byte(`{"server":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Index(context.Background()); err != nil || s.count() != 2 {
		t.Errorf("%d requests, %v", s.count(), err)
	}
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil || s.count() != 2 {
		t.Errorf("the corrupt file was not replaced: %d requests, %v", s.count(), err)
	}
}

// A CRD installed after the cache was written: a name the cache does not
// know is looked up once in a fresh answer, and only once.
func TestCacheRefreshesOnceForAnUnknownName(t *testing.T) {
	routes := aggregatedRoutes(t)
	without := map[string]route{"/api": routes["/api"], "/apis": {contentType: aggregatedType, body: `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[]}`}}
	s := newDiscoveryServer(t, without)
	dir := t.TempDir()
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil {
		t.Fatal(err)
	}

	s.setRoutes(routes) // the CRD is installed
	c.t = c.t.Add(time.Minute)
	client := newClient(s, t, dir, c)
	found, err := client.Lookup(context.Background(), "widgets")
	if err != nil || len(found) != 1 || id(found[0]) != "widgets.stable.example.com/v1" {
		t.Fatalf("Lookup(widgets) = %v, %v", found, err)
	}
	if n := s.count(); n != 4 {
		t.Errorf("%d requests, want 4: one refresh", n)
	}
	// The refreshed answer is this invocation's, and the cache's.
	if _, err := client.Lookup(context.Background(), "wd"); err != nil || s.count() != 4 {
		t.Errorf("a second lookup: %d requests, %v", s.count(), err)
	}
	if _, err := newClient(s, t, dir, c).Lookup(context.Background(), "wd"); err != nil || s.count() != 4 {
		t.Errorf("the next invocation: %d requests, %v", s.count(), err)
	}

	// A name nobody serves: one refresh, then the answer stands.
	var unknown *UnknownError
	if _, err := newClient(s, t, dir, c).Lookup(context.Background(), "sprockets"); !errors.As(err, &unknown) {
		t.Errorf("got %v, want an UnknownError", err)
	}
	if n := s.count(); n != 6 {
		t.Errorf("%d requests, want 6: exactly one refresh", n)
	}

	// A fresh answer that does not know the name is not asked again.
	fresh := newClient(s, t, "", c)
	if _, err := fresh.Lookup(context.Background(), "sprockets"); !errors.As(err, &unknown) {
		t.Errorf("got %v, want an UnknownError", err)
	}
	if n := s.count(); n != 8 {
		t.Errorf("%d requests, want 8: no refresh of a fresh answer", n)
	}
}

// A cache dir that cannot be made or written (a read-only filesystem, a
// file in the way) costs only speed.
func TestCacheUnwritable(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	for _, dir := range []string{blocker, filepath.Join(blocker, "kcurl", "discovery")} {
		before := s.count()
		found, err := newClient(s, t, dir, c).Lookup(context.Background(), "po")
		if err != nil || id(found[0]) != "pods/v1" {
			t.Errorf("cache dir %s: %v, %v", dir, found, err)
		}
		if n := s.count() - before; n != 2 {
			t.Errorf("cache dir %s: %d requests, want 2", dir, n)
		}
	}
	if b, err := os.ReadFile(blocker); err != nil || string(b) != "x" {
		t.Errorf("the file in the way was touched: %q %v", b, err)
	}
}

func TestCacheDisabled(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	for range 2 {
		if _, err := newClient(s, t, "", c).Index(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count(); n != 4 {
		t.Errorf("%d requests, want 4: no cache", n)
	}
}

// A cache anyone else could have written is not believed: not ours, or
// writable by others, or in a dir that is.
func TestCacheOnlyWhenOurOwn(t *testing.T) {
	s := newDiscoveryServer(t, aggregatedRoutes(t))
	c := &clock{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		name   string
		spoil  func(t *testing.T, dir, file string)
		reused bool
	}{
		{"ours", func(*testing.T, string, string) {}, true},
		{"file writable by others", func(t *testing.T, _, file string) { chmod(t, file, 0o666) }, false},
		{"file writable by the group", func(t *testing.T, _, file string) { chmod(t, file, 0o620) }, false},
		{"dir writable by others", func(t *testing.T, dir, _ string) { chmod(t, dir, 0o777) }, false},
		{"a dir above writable by others", func(t *testing.T, dir, _ string) { chmod(t, filepath.Dir(dir), 0o757) }, false},
		{"file of another user", func(t *testing.T, _, file string) {
			if os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			if err := os.Chown(file, 12345, 12345); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kcurl", "discovery")
			if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
			if len(files) != 1 {
				t.Fatalf("cache files %q", files)
			}
			tc.spoil(t, dir, files[0])
			before := s.count()
			if _, err := newClient(s, t, dir, c).Index(context.Background()); err != nil {
				t.Fatal(err)
			}
			if reused := s.count() == before; reused != tc.reused {
				t.Errorf("cache used: %v, want %v", reused, tc.reused)
			}
		})
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
