// Package targettest builds what kcurl finds in a Pod, for tests: a
// service-account directory laid out and rotated exactly as the kubelet does
// it, certificate authorities that sign servers for 127.0.0.1 and ::1, and an
// environment that is a map, never the machine's own.
package targettest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Env is an environment for target.Resolve: the map's entries and nothing
// else.
func Env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// ServiceAccount is a service-account volume in the kubelet's layout:
//
//	dir/token     -> ..data/token
//	dir/ca.crt    -> ..data/ca.crt
//	dir/namespace -> ..data/namespace
//	dir/..data    -> ..2025_01_02_03_04_05.000000001
//	dir/..2025_01_02_03_04_05.000000001/{token,ca.crt,namespace}
//
// Rotate replaces the files the way the kubelet's AtomicWriter does: a new
// timestamped directory, a new `..data_tmp` link renamed over `..data`, the
// old directory removed.
type ServiceAccount struct {
	Dir string

	mu     sync.Mutex
	t      testing.TB
	serial int
	names  map[string]bool
}

// NewServiceAccount writes files (name → content, e.g. "token", "ca.crt",
// "namespace") into a new temporary directory. Write the token without a
// trailing newline, as the kubelet does.
func NewServiceAccount(t testing.TB, files map[string]string) *ServiceAccount {
	t.Helper()
	return NewServiceAccountAt(t, t.TempDir(), files)
}

// NewServiceAccountAt is NewServiceAccount in dir, created if missing (a
// fake container root's /run/secrets/kubernetes.io/serviceaccount).
func NewServiceAccountAt(t testing.TB, dir string, files map[string]string) *ServiceAccount {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	sa := &ServiceAccount{Dir: dir, t: t, names: map[string]bool{}}
	sa.Rotate(files)
	return sa
}

// Path is the user-visible path of one file, e.g. sa.Path("token").
func (sa *ServiceAccount) Path(name string) string { return filepath.Join(sa.Dir, name) }

// Rotate atomically replaces the whole volume's content with files. A name
// absent from files disappears (its link dangles), as with the kubelet.
func (sa *ServiceAccount) Rotate(files map[string]string) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	t := sa.t
	t.Helper()
	sa.serial++
	stamp := fmt.Sprintf("..2025_01_02_03_04_05.%09d", sa.serial)
	tsDir := filepath.Join(sa.Dir, stamp)
	must(t, os.Mkdir(tsDir, 0o755))
	for name, content := range files {
		must(t, os.WriteFile(filepath.Join(tsDir, name), []byte(content), 0o644))
	}

	old, _ := os.Readlink(filepath.Join(sa.Dir, "..data"))
	tmp := filepath.Join(sa.Dir, "..data_tmp")
	must(t, os.Symlink(stamp, tmp))
	must(t, os.Rename(tmp, filepath.Join(sa.Dir, "..data")))

	for name := range files {
		if !sa.names[name] {
			must(t, os.Symlink(filepath.Join("..data", name), filepath.Join(sa.Dir, name)))
			sa.names[name] = true
		}
	}
	if old != "" {
		must(t, os.RemoveAll(filepath.Join(sa.Dir, old)))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// CA is a certificate authority for tests.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err := x509.ParseCertificate(der)
	must(t, err)
	return &CA{Cert: cert, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}
}

// ServerCert signs a serving certificate for hosts (IP addresses or DNS
// names), 127.0.0.1 and ::1 when none are given.
func (ca *CA) ServerCert(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	return ca.ServerCertValid(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), hosts...)
}

// ServerCertValid is ServerCert valid from notBefore to notAfter, e.g. an
// expired one.
func (ca *CA) ServerCertValid(t testing.TB, notBefore, notAfter time.Time, hosts ...string) tls.Certificate {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	must(t, err)
	leaf, err := x509.ParseCertificate(der)
	must(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	must(t, err)
	return n
}
