package limits

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimitUnder(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string // under the root
		want  int64
	}{
		{"none", nil, 0},
		{"cgroup v2 container", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "50331648\n",
		}, 48 << 20},
		{"cgroup v2 without a limit", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}, 0},
		{"cgroup v2 host service", map[string]string{
			"proc/self/cgroup": "0::/system.slice/app.service\n",
			"sys/fs/cgroup/system.slice/app.service/memory.max": "134217728\n",
		}, 128 << 20},
		{"cgroup v1 container, no cgroup namespace", map[string]string{
			"proc/self/cgroup":                           "12:pids:/kubepods/pod1/c1\n9:memory:/kubepods/pod1/c1\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "50331648\n",
		}, 48 << 20},
		{"cgroup v1 without a limit", map[string]string{
			"proc/self/cgroup":                           "9:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, 0},
		{"cgroup v1 nested", map[string]string{
			"proc/self/cgroup":                                 "9:cpuacct,memory:/batch\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes":       "9223372036854771712\n",
			"sys/fs/cgroup/memory/batch/memory.limit_in_bytes": "67108864\n",
		}, 64 << 20},
		{"a path that climbs is not followed", map[string]string{
			"proc/self/cgroup":         "0::/../../etc\n",
			"sys/fs/cgroup/memory.max": "50331648\n",
		}, 48 << 20},
		{"garbage", map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "lots\n",
		}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range c.files {
				path := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := memoryLimitUnder(root); got != c.want {
				t.Errorf("memoryLimitUnder = %d, want %d", got, c.want)
			}
		})
	}
}

func TestDefaultMaxValueFollowsTheMemoryLimit(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{
		{0, 256 << 20},
		{8 << 30, 256 << 20},
		{1 << 30, (1<<30 - 24<<20) / 6},
		{48 << 20, 4 << 20},
		{32 << 20, 2 << 20}, // never under 2 MiB: above any real object
		{16 << 20, 2 << 20},
	} {
		if got := defaultMaxValueFor(c.limit); got != c.want {
			t.Errorf("limit %d MiB: default %d, want %d", c.limit>>20, got, c.want)
		}
	}
}
