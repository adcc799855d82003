//go:build e2e

// Package node runs kcurl in real Pods: a one-node cluster of this run's own
// (scripts/node.sh: kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler, a kubelet, containerd and runc, in a network namespace of
// its own), the kcurl image built from the Dockerfile and imported into
// containerd, the documented manifests applied as they are (only their
// images retargeted), and Pods entered with real `kubectl exec`,
// `kubectl debug` and `kubectl port-forward`. Nothing here is mocked.
package node

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kcurl/kcurl/e2e/internal/harness"
)

// node is the cluster of this run, read from node.sh's env file.
var node map[string]string

var repoRoot string

// kcurlBin is the binary under test, built once for the run, for what runs
// beside the Pods (kcurl proxy in the node's namespace).
var kcurlBin string

// The images the Pods run: the Dockerfile's, and node.sh's own small ones.
const (
	kcurlImage = "localhost/kcurl:node-e2e"
	shellImage = "localhost/kcurl-e2e/shell:1"
	curlImage  = "localhost/kcurl-e2e/curl:1"
	// busybox with this run's kcurl as /bin/kcurl (scripts/image.sh toolbox).
	toolboxImage = "localhost/kcurl-try/toolbox:latest"
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

// TestNode is the suite, in the order it runs (go test -run
// 'TestNode/PodShapes' picks one). Each test makes its own namespace; the
// CA rotation goes last, as it leaves the cluster on the next CA.
func TestNode(t *testing.T) {
	for _, test := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"MemoryLimit48MiB", memoryLimit48MiB},
		{"DebugPodExec", debugPodExec},
		{"SidecarExample", sidecarExample},
		{"DebugTarget", debugTarget},
		{"PodShapes", podShapes},
		{"WaitForSecretExample", waitForSecretExample},
		{"KubectlThroughProxy", kubectlThroughProxy},
		{"DebugCommand", debugCommand},
		{"DebugCommandRefusals", debugCommandRefusals},
		{"DebugCommandFromPod", debugCommandFromPod},
		{"KcurlStreams", kcurlStreams},
		{"KcurlStreamsOnAnOlderNode", olderNodeStreams},
		{"TryPodNeighbour", tryPodNeighbour},
		{"CARotation", caRotation},
	} {
		t.Run(test.name, test.run)
	}
}

func run(m *testing.M) int {
	if os.Getuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e/node: a node needs root (network namespace, mounts, containers)")
		return 1
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	// Under /tmp, short: containerd's socket paths live in the state dir.
	work, err := os.MkdirTemp("/tmp", "kcurl-node-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	// Searchable by all (not listable): a user-namespace Pod's runtime
	// walks to its rootfs under the node's state dir as an unmapped uid.
	if err := os.Chmod(work, 0o711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	kcurlBin = filepath.Join(work, "kcurl")
	if err := harness.BuildKcurl(repoRoot, kcurlBin); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: %v\n", err)
		return 1
	}

	images := filepath.Join(work, "images")
	// Built and saved in one step, under the image's lock: another run's
	// build of the same tag cannot slip in between.
	if err := script(nil, "image.sh", "build", kcurlImage, filepath.Join(images, "kcurl.tar")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/node: building the kcurl image:", err)
		return 1
	}
	if err := script(nil, "image.sh", "node-images", images); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/node: making the node's images:", err)
		return 1
	}
	if err := script(nil, "image.sh", "toolbox", kcurlBin, filepath.Join(images, "toolbox.tar")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/node: making the toolbox image:", err)
		return 1
	}
	archives, _ := filepath.Glob(filepath.Join(images, "*.tar"))

	stateDir := filepath.Join(work, "n")
	nodeEnv := []string{"KCURL_NODE_DIR=" + stateDir, "KCURL_NODE_IMAGES=" + strings.Join(archives, " ")}
	defer func() { _ = script(nodeEnv, "node.sh", "down") }()
	if err := script(nodeEnv, "node.sh", "up"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/node: starting the node:", err)
		_ = script(nodeEnv, "node.sh", "logs")
		return 1
	}
	if node, err = harness.ReadEnvFile(filepath.Join(stateDir, "env")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e/node:", err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "e2e/node: a test failed; the node's logs end with:")
		_ = script(nodeEnv, "node.sh", "logs", "25")
	}
	return code
}

// script runs one of scripts/ with an environment that names no cluster of
// the machine's: PATH, HOME, the caches, and extra.
func script(extra []string, name string, args ...string) error {
	c := scriptCommand(extra, name, args...)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if len(args) > 0 && (args[0] == "up" || args[0] == "build" || args[0] == "node-images") {
		c.Stdout = nil // env files, image sizes and lists are read from disk
	}
	return c.Run()
}

// scriptCommand is script's command, for a caller that reads its output.
func scriptCommand(extra []string, name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(repoRoot, "scripts", name), args...)
	c.Env = append(baseEnv(), extra...)
	return c
}

func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, keep := range []string{"KCURL_BIN_CACHE", "KCURL_PODMAN_DIR", "XDG_CACHE_HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(keep); ok {
			env = append(env, keep+"="+v)
		}
	}
	return env
}

// result is what a user sees of one run.
type result = harness.Result

// inNode runs argv inside the node's network namespace (where the
// apiserver and the kubelet are), with only PATH and HOME from us.
func inNode(t *testing.T, stdin string, argv ...string) result {
	t.Helper()
	full := append([]string{"--net=/run/netns/" + node["KCURL_NODE_NETNS"], "env", "-i",
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + t.TempDir()}, argv...)
	c := exec.Command("nsenter", full...)
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %q: %v", argv, err)
	}
	return r
}

// kubectl is the real kubectl as the cluster's admin.
func kubectl(t *testing.T, args ...string) result {
	t.Helper()
	return kubectlIn(t, "", args...)
}

func kubectlIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return inNode(t, stdin, append([]string{node["KCURL_NODE_KUBECTL"], "--kubeconfig", node["KCURL_NODE_KUBECONFIG"]}, args...)...)
}

func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	r := kubectl(t, args...)
	if r.Code != 0 {
		t.Fatalf("kubectl %s:\n%s", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// apply applies a manifest with the images it names retargeted to the ones
// this node has (the documented manifests name a registry's).
func apply(t *testing.T, manifest string) {
	t.Helper()
	manifest = strings.NewReplacer(
		"image: kcurl:latest", "image: "+kcurlImage,
		"image: curlimages/curl:8.11.1", "image: "+curlImage,
	).Replace(manifest)
	if r := kubectlIn(t, manifest, "apply", "-f", "-"); r.Code != 0 {
		t.Fatalf("kubectl apply:\n%s\n%s", r, manifest)
	}
}

func applyFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, string(b))
}

// serviceAccount makes a ServiceAccount and a Role of the rules given
// (YAML list items) bound to it, both named sa.
func serviceAccount(t *testing.T, ns, sa, rules string) {
	t.Helper()
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: %[2]s, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: %[2]s, namespace: %[1]s}
rules:
%[3]s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: %[2]s, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: %[2]s}
subjects:
- {kind: ServiceAccount, name: %[2]s, namespace: %[1]s}
`, ns, sa, strings.TrimRight(rules, "\n")))
}

// waitReady waits until the Pod's Ready condition is True.
func waitReady(t *testing.T, ns, pod string) {
	t.Helper()
	if r := kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "--timeout=90s", "pod/"+pod); r.Code != 0 {
		t.Fatalf("pod %s/%s did not become Ready:\n%s\n%s", ns, pod, r, describe(t, ns, pod))
	}
}

func describe(t *testing.T, ns, pod string) string {
	return kubectl(t, "describe", "pod", "-n", ns, pod).Stdout
}

// namespace makes a namespace for one test and deletes it (with its Pods)
// when the test ends.
func namespace(t *testing.T) string {
	t.Helper()
	ns := "t-" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	ns = strings.TrimRight(ns, "-")
	mustKubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { kubectl(t, "delete", "namespace", ns, "--wait=false") })
	// The serviceaccount controller makes "default"; Pods wait for it.
	deadline := time.Now().Add(30 * time.Second)
	for kubectl(t, "get", "serviceaccount", "-n", ns, "default").Code != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no default ServiceAccount in %s", ns)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ns
}
