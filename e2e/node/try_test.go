//go:build e2e

package node

import (
	"bytes"
	"strings"
	"testing"
)

// tryPodNeighbour runs scripts/try.sh --pod as the README has a newcomer
// run it, on this run's node: kcurl in the Pod kcurl-try, as its
// ServiceAccount, reaches the neighbour Deployment web: exec through the
// Deployment, port-forward through the Service, cp from one of its Pods.
func tryPodNeighbour(t *testing.T) {
	const inPod = `set -e
cd /tmp
kcurl exec deploy/web -- cat /www/index.html
kcurl port-forward svc/web :80 > forwarding &
for i in $(seq 100); do grep -q Forwarding forwarding && break; sleep 0.1; done
port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) -> 8080$/\1/p' forwarding)
wget -qO- "http://127.0.0.1:$port/" | sed 's/^/forwarded: /'
kill -INT $!
wait $! && echo "port-forward ended: 0"
kcurl cp "$(kcurl pods -l app=web -r -q '.items[0].metadata.name')":/www/index.html copied
sed 's/^/copied: /' copied
kcurl exec svc/web -- sh -c 'exit 3' || echo "exec exit: $?"`
	c := scriptCommand([]string{"KCURL_NODE_DIR=" + node["KCURL_NODE_DIR"]}, "try.sh", "--pod", "sh", "-c", inPod)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("scripts/try.sh --pod: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("scripts/try.sh --pod printed %d lines, want 5:\n%s\nstderr:\n%s", len(lines), &stdout, &stderr)
	}
	hello := lines[0]
	if !strings.HasPrefix(hello, "hello from web-") {
		t.Errorf("exec deploy/web: %q, want the neighbour's hello", hello)
	}
	for i, want := range []string{"forwarded: " + hello, "port-forward ended: 0", "copied: " + hello, "exec exit: 3"} {
		if lines[i+1] != want {
			t.Errorf("line %d: %q, want %q\nstderr:\n%s", i+2, lines[i+1], want, &stderr)
		}
	}
}
