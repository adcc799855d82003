//go:build e2e

package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// silentKubelet is a kubelet that hangs: it listens in the node's network
// namespace, where the apiserver dials kubelets, and takes connections it
// never answers. Pods bound to the Node it makes (named name, its kubelet
// port this listener's) are Pods on a node whose kubelet never answers.
// The connections it took come out of accepted; the Node goes, and the
// listener and its connections are closed, when the test ends.
func silentKubelet(t *testing.T, name string) (accepted <-chan net.Conn) {
	t.Helper()
	l, err := newNodeNetwork(t).listen()
	if err != nil {
		t.Fatalf("listening in the node's namespace: %v", err)
	}
	keep := closeAtEnd(t, l)
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			keep(c)
			conns <- c
		}
	}()

	// Unschedulable and tainted, so that nothing lands on it but what a
	// test binds to it by name.
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Node
metadata: {name: %s}
spec:
  unschedulable: true
  taints: [{key: kcurl.test/silent, effect: NoSchedule}]
`, name))
	t.Cleanup(func() { kubectl(t, "delete", "node", name, "--wait=false") })
	status := fmt.Sprintf(`{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}}}}`, l.Addr().(*net.TCPAddr).Port)
	mustKubectl(t, "patch", "node", name, "--subresource=status", "--type=merge", "-p", status)
	return conns
}

// ghostPod binds a Pod to a node with no kubelet of its own and says it
// runs, as a Pod on a node that went silent would be; it is deleted
// (forced: no kubelet will confirm it) when the test ends.
func ghostPod(t *testing.T, ns, name, nodeName string) {
	t.Helper()
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  nodeName: %s
  containers: [{name: c, image: %s}]
`, name, ns, nodeName, shellImage))
	t.Cleanup(func() { kubectl(t, "delete", "pod", "-n", ns, name, "--grace-period=0", "--force", "--wait=false") })
	mustKubectl(t, "patch", "pod", "-n", ns, name, "--subresource=status", "--type=merge", "-p", `{"status":{"phase":"Running"}}`)
}

// reachedBy waits up to 20 s for the apiserver to reach the silent kubelet
// on b's behalf (b still waiting for its upgrade's answer) and returns that
// connection.
func reachedBy(t *testing.T, accepted <-chan net.Conn, b *background) net.Conn {
	t.Helper()
	select {
	case c := <-accepted:
		return c
	case <-b.exited:
		t.Fatalf("%q ended before the apiserver reached the kubelet: %v\n%s", b.cmd.Args, b.cmd.ProcessState, b.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("%q: the apiserver did not reach the silent kubelet in 20 s:\n%s", b.cmd.Args, b.output())
	}
	return nil
}

// closedWithin waits up to d for the other side (the apiserver) to close a
// connection the silent kubelet took, and says whether it did.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
}
