//go:build e2e

package node

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// nodeNetwork makes sockets in the node's network namespace, where the
// apiserver and the kubelet are, from a thread of its own that entered it:
// a socket belongs to the namespace of the thread that made it, and may be
// used from any thread after. The thread ends when the test does.
type nodeNetwork struct {
	requests chan func()
}

func newNodeNetwork(t *testing.T) *nodeNetwork {
	t.Helper()
	n := &nodeNetwork{requests: make(chan func())}
	entered := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and
		// nothing else runs on it.
		runtime.LockOSThread()
		ns, err := os.Open("/run/netns/" + node["KCURL_NODE_NETNS"])
		if err != nil {
			entered <- err
			return
		}
		err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
		ns.Close()
		entered <- err
		if err != nil {
			return
		}
		for request := range n.requests {
			request()
		}
	}()
	if err := <-entered; err != nil {
		t.Fatalf("entering the node's network namespace: %v", err)
	}
	t.Cleanup(func() { close(n.requests) })
	return n
}

// listen listens on a free port of the node's 127.0.0.1.
func (n *nodeNetwork) listen() (l net.Listener, err error) {
	done := make(chan struct{})
	n.requests <- func() { l, err = net.Listen("tcp", "127.0.0.1:0"); close(done) }
	<-done
	return l, err
}

// dial connects to addr as seen from the node.
func (n *nodeNetwork) dial(addr string) (c net.Conn, err error) {
	done := make(chan struct{})
	n.requests <- func() { c, err = net.Dial("tcp", addr); close(done) }
	<-done
	return c, err
}

// closeAtEnd closes l when the test ends, and every connection given to
// keep.
func closeAtEnd(t *testing.T, l net.Listener) (keep func(net.Conn)) {
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range open {
			c.Close()
		}
	})
	return func(c net.Conn) {
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
	}
}

// cuttingProxy forwards connections made to its port on the node's
// 127.0.0.1 to the apiserver there, as they are (TLS and all), and cuts
// the first one that carries more than after bytes to its client, as a
// network that drops a long transfer would: both sides are closed. cuts
// counts those (one at most). Everything it opened is closed when the test
// ends.
func cuttingProxy(t *testing.T, after int64) (port int, cuts *atomic.Int32) {
	t.Helper()
	p := startCuttingProxy(t, after, nil)
	return p.port, &p.cuts
}

// holdingProxy is cuttingProxy that holds the connections made after its
// cut until release is called, so that the test can change the node
// between the cut and the client's next try: cut is closed at the cut.
func holdingProxy(t *testing.T, after int64) (port int, cut <-chan struct{}, release func()) {
	t.Helper()
	hold := make(chan struct{})
	p := startCuttingProxy(t, after, hold)
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release) // a failed test's held connections end too
	return p.port, p.cut, release
}

type proxy struct {
	port int
	cuts atomic.Int32
	cut  chan struct{}
}

func startCuttingProxy(t *testing.T, after int64, hold <-chan struct{}) *proxy {
	t.Helper()
	network := newNodeNetwork(t)
	l, err := network.listen()
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{port: l.Addr().(*net.TCPAddr).Port, cut: make(chan struct{})}
	keep := closeAtEnd(t, l)
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			keep(client)
			if hold != nil && p.cuts.Load() > 0 {
				<-hold
			}
			server, err := network.dial("127.0.0.1:443")
			if err != nil {
				client.Close()
				continue
			}
			keep(server)
			go func() {
				io.Copy(server, client)
				server.Close()
			}()
			go func() {
				n, _ := io.CopyN(client, server, after)
				if n == after && p.cuts.CompareAndSwap(0, 1) {
					client.Close()
					server.Close()
					close(p.cut)
					return
				}
				io.Copy(client, server)
				client.Close()
			}()
		}
	}()
	return p
}
