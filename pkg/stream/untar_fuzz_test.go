package stream

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzUntar: whatever entries a container's tar sends (names, link
// targets, kinds, in any order), nothing appears outside the destination.
func FuzzUntar(f *testing.F) {
	f.Add("src/../../x\x00src/l\x00../..\x00src/l/y", "0s0")
	f.Add("/abs\x00src/a\x00/etc\x00src/a/b", "0s0")
	f.Add("src\x00src/./../x\x00src/d/\x00src/d/../../y", "5005")
	f.Fuzz(func(t *testing.T, names, kinds string) {
		parts := strings.Split(names, "\x00")
		var entries []entry
		for i, name := range parts {
			kind := byte(tar.TypeReg)
			if i < len(kinds) {
				switch kinds[i] {
				case 's':
					kind = tar.TypeSymlink
				case 'h':
					kind = tar.TypeLink
				case '5':
					kind = tar.TypeDir
				}
			}
			link := ""
			if kind == tar.TypeSymlink || kind == tar.TypeLink {
				if i+1 < len(parts) {
					link = parts[i+1]
				}
			}
			if name == "" || strings.ContainsRune(name, 0) {
				continue
			}
			entries = append(entries, entry{name: name, link: link, kind: kind, body: "x"})
		}
		top := t.TempDir()
		work := filepath.Join(top, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = Untar(tarOf(t, entries...), filepath.Join(work, "dest"), "src", nil)
		outside, err := os.ReadDir(top)
		if err != nil || len(outside) != 1 {
			t.Fatalf("outside the work dir: %v %v", outside, err)
		}
		inWork, _ := os.ReadDir(work)
		for _, e := range inWork {
			if e.Name() != "dest" {
				t.Fatalf("beside the destination: %s (entries %q)", e.Name(), parts)
			}
		}
	})
}
