//go:build e2e

// Package release checks what ships: scripts/release.sh's files (static
// binaries for four platforms, their archives, checksums, SBOMs and the
// krew plugin manifest), built twice to the same bytes; the arm64 binary
// run under qemu-user; and the image for every node, a manifest list of
// linux/amd64 and linux/arm64 (scripts/image.sh multiarch).
package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// A version of the test's own; release.sh tags it in its clone only.
const version = "v0.0.0-e2e.1"

var platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"}

var repoRoot = func() string {
	root, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return root
}()

// release runs scripts/release.sh for version into dir, with env on top of
// the test's.
func release(t *testing.T, dir string, env ...string) {
	t.Helper()
	c := exec.Command(filepath.Join(repoRoot, "scripts", "release.sh"), version, dir)
	c.Env = append(append(os.Environ(), "KCURL_RELEASE_URL=https://example.test/kcurl/"+version), env...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release.sh %s %s: %v\n%s", version, dir, err, out)
	}
}

func git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", repoRoot}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %q: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func name(platform string) string {
	return "kcurl-" + version + "-" + strings.ReplaceAll(platform, "/", "-")
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestRelease builds the release once with every platform, and once more
// with the two Linux ones (enough to prove the bytes do not change, at
// half the cost), then checks each file.
func TestRelease(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	release(t, first)
	release(t, second, "KCURL_RELEASE_PLATFORMS=linux/amd64 linux/arm64")

	t.Run("reproducible", func(t *testing.T) {
		for _, p := range platforms[:2] {
			for _, suffix := range []string{"", ".tar.gz", ".cdx.json"} {
				f := name(p) + suffix
				a, b := sha256File(t, filepath.Join(first, f)), sha256File(t, filepath.Join(second, f))
				if a != b {
					t.Errorf("%s differs between two builds of one commit: %s, %s", f, a, b)
				}
			}
		}
	})

	t.Run("checksums", func(t *testing.T) {
		sums, err := os.ReadFile(filepath.Join(first, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
			sum, file, ok := strings.Cut(line, "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q is not sha256sum's", line)
			}
			listed[file] = true
			if got := sha256File(t, filepath.Join(first, file)); got != sum {
				t.Errorf("SHA256SUMS says %s for %s; it is %s", sum, file, got)
			}
		}
		entries, err := os.ReadDir(first)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "SHA256SUMS" && !listed[e.Name()] {
				t.Errorf("%s is not in SHA256SUMS", e.Name())
			}
		}
		for _, p := range platforms {
			for _, suffix := range []string{"", ".tar.gz", ".cdx.json"} {
				if !listed[name(p)+suffix] {
					t.Errorf("no %s%s in the release", name(p), suffix)
				}
			}
		}
	})

	t.Run("binaries", func(t *testing.T) { binaries(t, first) })
	t.Run("sbom", func(t *testing.T) { sbom(t, first) })
	t.Run("krew manifest", func(t *testing.T) { krewManifest(t, first) })
}

// binaries: each is static (no interpreter), stripped, for its platform,
// and the archive holds the same bytes as `kcurl`; the Linux ones run (the
// arm64 one under qemu-user) and say their version, commit and date.
func binaries(t *testing.T, dir string) {
	commit := git(t, "rev-parse", "HEAD")
	date := git(t, "-c", "log.showSignature=false", "show", "-s", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", "--format=%cd", "HEAD")
	for _, p := range platforms {
		bin := filepath.Join(dir, name(p))
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 20<<20 {
			t.Errorf("%s is %d bytes, want at most 20 MiB", name(p), len(b))
		}
		t.Logf("%s: %.1f MB", name(p), float64(len(b))/1e6)
		if inArchive := fileInTarGz(t, bin+".tar.gz", "kcurl"); !bytes.Equal(inArchive, b) {
			t.Errorf("%s.tar.gz's kcurl is not %s", name(p), name(p))
		}
		if !strings.HasPrefix(p, "linux/") {
			macOS(t, bin, p) // built, not run here
			continue
		}
		linuxELF(t, bin, p)
		run := []string{bin}
		if p == "linux/arm64" {
			qemu, err := exec.LookPath("qemu-aarch64")
			if err != nil {
				t.Fatalf("no qemu-aarch64 to run the arm64 binary (Debian's qemu-user; scripts/test.sh installs it as root)")
			}
			run = []string{qemu, bin}
		}
		out, err := exec.Command(run[0], append(run[1:], "version", "-o", "json")...).Output()
		var v struct{ Version, Commit, Date, Platform string }
		if err != nil || json.Unmarshal(out, &v) != nil {
			t.Fatalf("%s version -o json: %v\n%s", name(p), err, out)
		}
		want := struct{ Version, Commit, Date, Platform string }{version, commit, date, p}
		if v != want {
			t.Errorf("%s version -o json = %+v, want %+v", name(p), v, want)
		}
		help, err := exec.Command(run[0], append(run[1:], "--help")...).Output()
		if err != nil || !strings.Contains(string(help), "kcurl [flags] PATH|RESOURCE [flags]") {
			t.Errorf("%s --help: %v\n%s", name(p), err, help)
		}
		// As krew installs it: kubectl runs kubectl-kcurl, a link to kcurl.
		link := filepath.Join(t.TempDir(), "kubectl-kcurl")
		if err := os.Symlink(bin, link); err != nil {
			t.Fatal(err)
		}
		run[len(run)-1] = link
		help, err = exec.Command(run[0], append(run[1:], "--help")...).Output()
		if err != nil || !strings.Contains(string(help), "kubectl kcurl [flags] PATH|RESOURCE [flags]") {
			t.Errorf("%s as kubectl-kcurl --help: %v\n%s", name(p), err, help)
		}
		if p == "linux/arm64" {
			t.Logf("linux/arm64 under qemu-user: kcurl version says %+v", v)
		}
	}
}

// linuxELF: a static executable for its architecture (no interpreter, no
// libraries).
func linuxELF(t *testing.T, bin, platform string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"linux/amd64": elf.EM_X86_64, "linux/arm64": elf.EM_AARCH64}[platform]
	libs, _ := f.ImportedLibraries()
	interp := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
	if f.Machine != want || interp || len(libs) > 0 || f.Section(".symtab") != nil {
		t.Errorf("%s: machine %v (want %v), interpreter %v, libraries %q, symbols %v: want static and stripped",
			filepath.Base(bin), f.Machine, want, interp, libs, f.Section(".symtab") != nil)
	}
}

// macOS: a Mach-O executable for its CPU; on arm64 with the ad-hoc code
// signature Go's linker adds, without which Apple silicon will not run it.
func macOS(t *testing.T, bin, platform string) {
	t.Helper()
	f, err := macho.Open(bin)
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	defer f.Close()
	want := map[string]macho.Cpu{"darwin/amd64": macho.CpuAmd64, "darwin/arm64": macho.CpuArm64}[platform]
	const lcCodeSignature = 0x1d
	signed := slices.ContainsFunc(f.Loads, func(l macho.Load) bool {
		raw := l.Raw()
		return len(raw) >= 4 && f.ByteOrder.Uint32(raw) == lcCodeSignature
	})
	if f.Type != macho.TypeExec || f.Cpu != want || (want == macho.CpuArm64 && !signed) {
		t.Errorf("%s: type %v, cpu %v (want %v), code signature %v", filepath.Base(bin), f.Type, f.Cpu, want, signed)
	}
}

func fileInTarGz(t *testing.T, path, want string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(gz)
	var names []string
	var found []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		names = append(names, h.Name)
		if h.Name == want {
			if h.Mode&0o111 == 0 || h.Uid != 0 || h.Gid != 0 {
				t.Errorf("%s: %s has mode %o, owner %d:%d; want executable, 0:0", path, want, h.Mode, h.Uid, h.Gid)
			}
			if found, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(names, []string{want}) {
		t.Errorf("%s holds %q, want only %q", path, names, want)
	}
	return found
}

// sbom: CycloneDX JSON naming kcurl at this version for its platform, the
// modules it is built from (client-go among them) and Go's standard
// library, with no timestamp and a serial number of its own.
func sbom(t *testing.T, dir string) {
	serials := map[string]bool{}
	for _, p := range platforms {
		b, err := os.ReadFile(filepath.Join(dir, name(p)+".cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		var bom struct {
			BOMFormat    string `json:"bomFormat"`
			SpecVersion  string `json:"specVersion"`
			SerialNumber string `json:"serialNumber"`
			Metadata     struct {
				Timestamp string `json:"timestamp"`
				Component struct {
					Name, Version, Purl string
				} `json:"component"`
			} `json:"metadata"`
			Components []struct{ Name, Version string } `json:"components"`
		}
		if err := json.Unmarshal(b, &bom); err != nil {
			t.Fatalf("%s.cdx.json: %v", name(p), err)
		}
		c := bom.Metadata.Component
		goos, goarch, _ := strings.Cut(p, "/")
		if bom.BOMFormat != "CycloneDX" || bom.SpecVersion == "" || c.Name != "github.com/kcurl/kcurl" || c.Version != version ||
			!strings.Contains(c.Purl, "goos="+goos) || !strings.Contains(c.Purl, "goarch="+goarch) {
			t.Errorf("%s.cdx.json: format %q %q, component %+v", name(p), bom.BOMFormat, bom.SpecVersion, c)
		}
		if bom.Metadata.Timestamp != "" || !regexp.MustCompile(`^urn:uuid:[0-9a-f-]{36}$`).MatchString(bom.SerialNumber) || serials[bom.SerialNumber] {
			t.Errorf("%s.cdx.json: timestamp %q, serial %q (want none, and a UUID of its own)", name(p), bom.Metadata.Timestamp, bom.SerialNumber)
		}
		serials[bom.SerialNumber] = true
		modules := map[string]bool{}
		for _, m := range bom.Components {
			modules[m.Name] = true
		}
		for _, m := range []string{"k8s.io/client-go", "github.com/itchyny/gojq", "std"} {
			if !modules[m] {
				t.Errorf("%s.cdx.json lists no %s among %d components", name(p), m, len(bom.Components))
			}
		}
	}
}

// The krew plugin manifest's fields, as krew's own validation reads them
// (sigs.k8s.io/krew internal/index/validation, and the plugin-manifest
// page of its developer guide).
type krewPlugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string `json:"version"`
		Homepage         string `json:"homepage"`
		ShortDescription string `json:"shortDescription"`
		Description      string `json:"description"`
		Caveats          string `json:"caveats"`
		Platforms        []struct {
			Selector *struct {
				MatchLabels      map[string]string `json:"matchLabels"`
				MatchExpressions []struct {
					Key string `json:"key"`
				} `json:"matchExpressions"`
			} `json:"selector"`
			URI    string `json:"uri"`
			Sha256 string `json:"sha256"`
			Bin    string `json:"bin"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

var (
	semverWithV = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	sha256Hex   = regexp.MustCompile(`^[a-f0-9]{64}$`)
	pluginName  = regexp.MustCompile(`^[\w-]+$`)
)

func krewManifest(t *testing.T, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "kcurl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p krewPlugin
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("kcurl.yaml has a field krew does not know, or is not YAML: %v\n%s", err, b)
	}
	fail := func(format string, args ...any) { t.Errorf("kcurl.yaml: "+format, args...) }
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Kind != "Plugin" {
		fail("apiVersion %q, kind %q", p.APIVersion, p.Kind)
	}
	// The file is NAME.yaml, and NAME what kubectl runs: kubectl kcurl.
	if p.Metadata.Name != "kcurl" || !pluginName.MatchString(p.Metadata.Name) {
		fail("metadata.name %q, want kcurl", p.Metadata.Name)
	}
	if p.Spec.Version != version || !semverWithV.MatchString(p.Spec.Version) {
		fail("spec.version %q, want %s (semver with its v)", p.Spec.Version, version)
	}
	// krew: one line; its guide asks for fewer than 50 characters.
	if p.Spec.ShortDescription == "" || strings.ContainsAny(p.Spec.ShortDescription, "\r\n") || len(p.Spec.ShortDescription) > 50 {
		fail("shortDescription %q: want one short line", p.Spec.ShortDescription)
	}
	if !strings.HasPrefix(p.Spec.Homepage, "https://") || p.Spec.Description == "" {
		fail("homepage %q, description %q", p.Spec.Homepage, p.Spec.Description)
	}
	seen := map[string]bool{}
	for i, pl := range p.Spec.Platforms {
		if pl.Selector == nil || len(pl.Selector.MatchLabels) == 0 || len(pl.Selector.MatchExpressions) != 0 {
			fail("platform %d: selector %+v: want matchLabels os and arch", i, pl.Selector)
			continue
		}
		for k := range pl.Selector.MatchLabels {
			if k != "os" && k != "arch" {
				fail("platform %d: selector key %q: krew knows os and arch only", i, k)
			}
		}
		platform := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		seen[platform] = true
		archive := name(platform) + ".tar.gz"
		if pl.URI != "https://example.test/kcurl/"+version+"/"+archive {
			fail("%s: uri %q, want KCURL_RELEASE_URL/%s", platform, pl.URI, archive)
		}
		if !sha256Hex.MatchString(pl.Sha256) || pl.Sha256 != sha256File(t, filepath.Join(dir, archive)) {
			fail("%s: sha256 %q is not %s's", platform, pl.Sha256, archive)
		}
		if pl.Bin != "kcurl" || len(pl.Files) == 0 {
			fail("%s: bin %q, files %+v", platform, pl.Bin, pl.Files)
		}
		for _, f := range pl.Files {
			if f.From == "" || f.To == "" {
				fail("%s: files entry %+v: from and to are required", platform, f)
			}
		}
	}
	for _, want := range platforms {
		if !seen[want] {
			fail("no platform %s among %d", want, len(p.Spec.Platforms))
		}
	}
	if len(p.Spec.Platforms) != len(platforms) {
		fail("%d platforms, want %d", len(p.Spec.Platforms), len(platforms))
	}
}

// TestImageForEveryNode: the manifest list names linux/amd64 and
// linux/arm64, each image is for its platform, small, carries the file
// capabilities, and its kcurl runs (arm64 under qemu-user); the OCI archive
// holds the list with both images.
func TestImageForEveryNode(t *testing.T) {
	script := filepath.Join(repoRoot, "scripts", "image.sh")
	podman := func(args ...string) ([]byte, error) {
		return exec.Command(script, append([]string{"podman"}, args...)...).Output()
	}
	list := fmt.Sprintf("localhost/kcurl:e2e-release-%d", os.Getpid())
	archive := filepath.Join(t.TempDir(), "kcurl.oci.tar")
	t.Cleanup(func() {
		// The list first (podman 4.3 lists no images while it exists),
		// then the images it names.
		for _, args := range [][]string{{"manifest", "rm", list}, {"rmi", "--force", list + "-amd64", list + "-arm64"}} {
			if out, err := podman(args...); err != nil {
				t.Logf("podman %q: %v\n%s", args, err, out)
			}
		}
	})
	build := exec.Command(script, "multiarch", list, archive)
	var stderr bytes.Buffer
	build.Stderr = &stderr
	sizes, err := build.Output()
	if err != nil {
		t.Fatalf("scripts/image.sh multiarch: %v\n%s", err, stderr.String())
	}
	t.Logf("image sizes (platform, bytes):\n%s", sizes)
	for _, line := range strings.Split(strings.TrimSpace(string(sizes)), "\n") {
		var platform string
		var size int64
		if _, err := fmt.Sscan(line, &platform, &size); err != nil || size <= 0 || size > 25<<20 {
			t.Errorf("image size line %q: want PLATFORM BYTES, at most 25 MiB", line)
		}
	}

	out, err := podman("manifest", "inspect", list)
	if err != nil {
		t.Fatalf("podman manifest inspect %s: %v", list, err)
	}
	var index struct {
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(out, &index); err != nil {
		t.Fatalf("podman manifest inspect: %v\n%s", err, out)
	}
	var listed []string
	for _, m := range index.Manifests {
		listed = append(listed, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("the manifest list names %q, want linux/amd64 and linux/arm64", listed)
	}

	for _, arch := range []string{"amd64", "arm64"} {
		image := list + "-" + arch
		out, err := podman("image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{.Config.User}}", image)
		if got := strings.TrimSpace(string(out)); err != nil || got != "linux/"+arch+" 65532:65532" {
			t.Errorf("%s: %q, %v; want linux/%s 65532:65532", image, got, err, arch)
		}
		mnt, err := podman("image", "mount", image)
		if err != nil {
			t.Fatalf("podman image mount %s: %v", image, err)
		}
		bin := filepath.Join(strings.TrimSpace(string(mnt)), "kcurl")
		caps, err := exec.Command("getcap", bin).Output()
		if got := strings.Fields(string(caps)); err != nil || len(got) != 2 || got[1] != "cap_dac_override,cap_sys_ptrace=p" {
			t.Errorf("getcap /kcurl in %s: %q, %v; want cap_dac_override,cap_sys_ptrace=p", image, caps, err)
		}
		run := []string{bin}
		if arch == "arm64" {
			run = []string{"qemu-aarch64", bin}
		}
		out, err = exec.Command(run[0], append(run[1:], "version", "-o", "json")...).Output()
		var v struct{ Version, Platform string }
		if err != nil || json.Unmarshal(out, &v) != nil || v.Platform != "linux/"+arch || v.Version == "" || v.Version == "dev" {
			t.Errorf("%s's kcurl version: %v\n%s", image, err, out)
		}
		if _, err := podman("image", "unmount", image); err != nil {
			t.Errorf("podman image unmount %s: %v", image, err)
		}
	}

	ociArchive(t, archive, list)
}

// ociArchive: the OCI image layout in the archive indexes the list by its
// name, and the list both platforms' manifests, whose blobs are all there.
func ociArchive(t *testing.T, path, name string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag == tar.TypeReg && (h.Name == "index.json" || h.Size < 1<<20) {
			files[strings.TrimPrefix(h.Name, "./")], _ = io.ReadAll(tr)
		} else if h.Typeflag == tar.TypeReg {
			files[strings.TrimPrefix(h.Name, "./")] = nil // a layer: present
		}
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Annotations map[string]string `json:"annotations"`
		Platform    *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	blob := func(digest string) []byte {
		b, ok := files["blobs/"+strings.Replace(digest, ":", "/", 1)]
		if !ok {
			t.Fatalf("the OCI archive lacks blob %s", digest)
		}
		return b
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("the OCI archive's index.json: %v\n%s", err, files["index.json"])
	}
	if got := index.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != name {
		t.Errorf("the OCI archive names its list %q, want %q", got, name)
	}
	var list struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(blob(index.Manifests[0].Digest), &list); err != nil {
		t.Fatalf("the OCI archive's list %s: %v", index.Manifests[0].Digest, err)
	}
	var platforms []string
	for _, m := range list.Manifests {
		if m.Platform == nil {
			t.Errorf("the OCI archive's list names %s without a platform", m.Digest)
			continue
		}
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		var manifest struct {
			Config descriptor   `json:"config"`
			Layers []descriptor `json:"layers"`
		}
		if err := json.Unmarshal(blob(m.Digest), &manifest); err != nil {
			t.Fatalf("manifest %s: %v", m.Digest, err)
		}
		blob(manifest.Config.Digest)
		for _, l := range manifest.Layers {
			blob(l.Digest)
		}
	}
	slices.Sort(platforms)
	if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("the OCI archive's list names %q, want linux/amd64 and linux/arm64", platforms)
	}
}
