//go:build e2e

// Package memory runs the built kcurl in a memory cgroup limited to 48 MiB
// (SPEC §6), as a container with that limit would, over a list of 20,000
// ConfigMaps (33 MB), in every mode that must not grow with the answer, and
// checks that each run ends well and its output is complete. The list comes
// from scripts/bench/listserver, the benchmarks' generated input: 20,000
// objects load slowly into etcd, and what is measured here is kcurl's
// memory, not the API server. The real node's e2e runs the same modes
// against a real API server.
//
// Needs root and a cgroup memory controller (v1 or v2); skipped otherwise.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	objects  = 20000
	limitMiB = 48
	list     = "/api/v1/namespaces/bench/configmaps"
)

func TestMemoryStaysWithin48MiB(t *testing.T) {
	cgroups := memoryCgroups(t)
	dir := t.TempDir()
	root, _ := filepath.Abs("../..")
	kcurl, listserver := filepath.Join(dir, "kcurl"), filepath.Join(dir, "listserver")
	for bin, pkg := range map[string]string{kcurl: ".", listserver: "./scripts/bench/listserver"} {
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, pkg)
		build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
	}
	sa := filepath.Join(dir, "serviceaccount")
	if err := os.Mkdir(sa, 0o700); err != nil {
		t.Fatal(err)
	}
	server := exec.Command(listserver, "-n", strconv.Itoa(objects), "-dir", sa)
	server.Stderr = os.Stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = server.Process.Signal(syscall.SIGTERM) // by its pid
		_ = server.Wait()
	})
	var url string
	for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(sa, "server"))
		url = strings.TrimSpace(string(b))
	}
	if url == "" {
		t.Fatal("the list server did not start")
	}
	port := url[strings.LastIndexByte(url, ':')+1:]
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "KUBERNETES_SERVICE_HOST=127.0.0.1",
		"KUBERNETES_SERVICE_PORT=" + port, "KUBERNETES_SERVICE_PORT_HTTPS=" + port, "KCURL_SA_DIR=" + sa}

	// count is what each item leaves in the output, once.
	modes := []struct {
		name  string
		args  []string
		count string
		watch bool // ends with Ctrl-C once every event is out
	}{
		{"jq by item", []string{list, "-r", "-q", ".items[].metadata.name"}, "cm-0", false},
		{"-o name", []string{list, "-o", "name"}, "configmap/cm-", false},
		{"-o yaml", []string{list, "-o", "yaml"}, "\n    name: cm-", false},
		{"-o json", []string{list, "-o", "json"}, `"name": "cm-`, false},
		{"-c", []string{list, "-c"}, `"name":"cm-`, false},
		{"-o table", []string{list, "-o", "table"}, "\ncm-", false},
		{"-o wide", []string{list, "-o", "wide"}, "\ncm-", false},
		{"--all jq by item", []string{list, "--all", "-r", "-q", ".items[] | .metadata.name"}, "cm-0", false},
		{"--all -o yaml", []string{list, "--all", "-o", "yaml"}, "\n    name: cm-", false},
		{"--all -o json", []string{list, "--all"}, `"name": "cm-`, false},
		{"--all -o name", []string{list, "--all", "-o", "name"}, "configmap/cm-", false},
		{"--all -o table", []string{list, "--all", "-o", "table"}, "\ncm-", false},
		{"watch -o name", []string{list, "-w", "-o", "name"}, "configmap/cm-", true},
		{"watch -o yaml", []string{list, "-w", "-o", "yaml"}, "\n    name: cm-", true},
		{"watch jq", []string{list, "-w", "-r", "-q", ".object.metadata.name"}, "cm-0", true},
	}
	for i, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			cg := cgroups.make(t, fmt.Sprintf("kcurl-memory-%d-%d", os.Getpid(), i), limitMiB<<20)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			// The shell moves itself into the cgroup, then becomes kcurl.
			args := append([]string{"-c", `echo $$ >"$1" && shift && exec "$@"`, "sh", cg.procs(), kcurl}, mode.args...)
			cmd := exec.CommandContext(ctx, "/bin/sh", args...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			counter := &substrings{sub: []byte(mode.count)}
			buf := make([]byte, 64<<10)
			for {
				n, err := stdout.Read(buf)
				counter.Write(buf[:n])
				if mode.watch && counter.n == objects {
					_ = cmd.Process.Signal(os.Interrupt) // Ctrl-C: a watch's clean end
					mode.watch = false
				}
				if err != nil {
					break
				}
			}
			err = cmd.Wait()
			peak := cg.peak(t)
			t.Logf("%s: %d items, peak %.1f MiB (limit %d MiB)", strings.Join(mode.args[1:], " "), counter.n, float64(peak)/(1<<20), limitMiB)
			if err != nil {
				t.Fatalf("kcurl %s: %v (killed by the limit? OOM kills: %d)\n%s", strings.Join(mode.args, " "), err, cg.oomKills(), stderr.String())
			}
			if counter.n != objects {
				t.Errorf("%d of %d items in the output\n%s", counter.n, objects, stderr.String())
			}
		})
	}
}

// substrings counts a string's occurrences in what is written to it.
type substrings struct {
	sub  []byte
	n    int
	last []byte // the end of what came, where an occurrence may begin
}

func (s *substrings) Write(p []byte) (int, error) {
	b := append(s.last, p...)
	s.n += bytes.Count(b, s.sub)
	// Keep fewer bytes than the string, so no occurrence counts twice.
	keep := min(len(b), len(s.sub)-1)
	s.last = append(s.last[:0], b[len(b)-keep:]...)
	return len(p), nil
}

type cgroupRoot struct {
	dir string
	v2  bool
}

// memoryCgroups finds the memory controller: cgroup v1's own hierarchy, or
// the unified one with memory enabled for children.
func memoryCgroups(t *testing.T) cgroupRoot {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to make a memory cgroup")
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		return cgroupRoot{dir: "/sys/fs/cgroup/memory"}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && strings.Contains(string(b), "memory") {
		return cgroupRoot{dir: "/sys/fs/cgroup", v2: true}
	}
	t.Skip("no cgroup memory controller to limit kcurl with")
	return cgroupRoot{}
}

type cgroup struct {
	dir string
	v2  bool
}

func (r cgroupRoot) make(t *testing.T, name string, limit int64) cgroup {
	cg := cgroup{dir: filepath.Join(r.dir, name), v2: r.v2}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Empty once kcurl has exited; removed by its own name.
		for range 50 {
			if err := os.Remove(cg.dir); err == nil || os.IsNotExist(err) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("could not remove the cgroup %s", cg.dir)
	})
	file, value := "memory.limit_in_bytes", strconv.FormatInt(limit, 10)
	if r.v2 {
		file = "memory.max"
	}
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(value), 0o644); err != nil {
		t.Fatal(err)
	}
	if !r.v2 {
		// No swap to hide in, where the kernel has the knob.
		_ = os.WriteFile(filepath.Join(cg.dir, "memory.memsw.limit_in_bytes"), []byte(value), 0o644)
	} else {
		_ = os.WriteFile(filepath.Join(cg.dir, "memory.swap.max"), []byte("0"), 0o644)
	}
	return cg
}

func (c cgroup) procs() string { return filepath.Join(c.dir, "cgroup.procs") }

// peak is the most memory the cgroup used: what the limit is held against.
func (c cgroup) peak(t *testing.T) int64 {
	file := "memory.max_usage_in_bytes"
	if c.v2 {
		file = "memory.peak"
	}
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func (c cgroup) oomKills() int {
	file := "memory.oom_control"
	if c.v2 {
		file = "memory.events"
	}
	b, _ := os.ReadFile(filepath.Join(c.dir, file))
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == "oom_kill" {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
