package limits

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The bound on one value follows the container's memory limit, so that a
// whole-answer jq filter in a small container ends with exit 1 and one line
// rather than the kernel's OOM kill (exit 137, no message): measured with
// `-q '.items|length'`, kcurl holds about 4.6 bytes per byte of a Pod list's
// JSON (2.2 for ConfigMaps), above a baseline of about 16 MiB.
const (
	// baselineMemory is what kcurl takes besides the value: the runtime,
	// the binary's pages, buffers.
	baselineMemory = 24 << 20
	// memoryPerByte is the memory one byte of JSON takes held whole as jq
	// values, with room for the garbage collector's.
	memoryPerByte = 6
	// minDefaultMaxValue keeps the bound above any real object (etcd
	// keeps at most 1.5 MiB of one), however small the container.
	minDefaultMaxValue = 2 << 20
	// unlimitedMemory: cgroup v1 says "no limit" with a number near the
	// largest int64.
	unlimitedMemory = 1 << 62
)

// DefaultMaxValue is the bound on one value held in memory unless
// --max-value or KCURL_MAX_VALUE sets one: 256 MiB, far above any real
// object and far below what would crash kcurl, or less in a container
// whose memory limit would not hold that: what the limit leaves above
// kcurl's baseline, over the memory a byte of JSON takes, at least 2 MiB.
func DefaultMaxValue() int64 { return defaultMaxValue() }

var defaultMaxValue = sync.OnceValue(func() int64 { return defaultMaxValueFor(MemoryLimit()) })

func defaultMaxValueFor(memoryLimit int64) int64 {
	if memoryLimit <= 0 {
		return maxDefaultMaxValue
	}
	n := (memoryLimit - baselineMemory) / memoryPerByte
	return max(minDefaultMaxValue, min(n, maxDefaultMaxValue))
}

// MemoryLimit is the memory limit of kcurl's cgroup (a container's limit:
// resources.limits.memory), in bytes; 0 when there is none, or none can be
// read.
func MemoryLimit() int64 { return memoryLimit() }

var memoryLimit = sync.OnceValue(func() int64 { return memoryLimitUnder("/") })

// memoryLimitUnder reads the limit from the files under root (/ but in
// tests): cgroup v2's memory.max or v1's memory.limit_in_bytes, for the
// cgroup /proc/self/cgroup names, at the mount's root when that path is not
// there (a container sees its own cgroup at the root of the mount, whatever
// /proc/self/cgroup says without a cgroup namespace).
func memoryLimitUnder(root string) int64 {
	v2, v1 := cgroupPaths(filepath.Join(root, "proc/self/cgroup"))
	candidates := []string{
		filepath.Join(root, "sys/fs/cgroup", v2, "memory.max"),
		filepath.Join(root, "sys/fs/cgroup/memory.max"),
		filepath.Join(root, "sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"),
		filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"),
	}
	for _, file := range candidates {
		text, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		text = bytes.TrimSpace(text)
		if string(text) == "max" {
			return 0
		}
		n, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil || n <= 0 || n >= unlimitedMemory {
			return 0
		}
		return n
	}
	return 0
}

// cgroupPaths reads kcurl's cgroup v2 path and cgroup v1 memory path from
// /proc/self/cgroup ("0::/PATH", "N:memory:/PATH"); "" where absent.
func cgroupPaths(file string) (v2, v1 string) {
	f, err := os.Open(file)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		id, rest, _ := strings.Cut(lines.Text(), ":")
		controllers, path, ok := strings.Cut(rest, ":")
		switch {
		case !ok || !strings.HasPrefix(path, "/") || strings.Contains(path, ".."):
		case id == "0" && controllers == "":
			v2 = path
		case strings.Contains(","+controllers+",", ",memory,"):
			v1 = path
		}
	}
	return v2, v1
}
