package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildTags are the tags every build of kcurl carries. urfave_cli_no_docs
// leaves out urfave/cli's man page and Markdown writers, which kcurl never
// calls (its reference and man page are written by docs_test.go), and with
// them go-md2man and blackfriday, whose package initialisation (tables of
// HTML entities) costs every start of kcurl about 3 ms on the benchmark
// machine, a tenth of `kcurl exec`'s own time (docs/performance.md).
const buildTags = "urfave_cli_no_docs"

// kcurlBuild finds a `go build` or `go install` of kcurl itself in a shell
// line (README, Dockerfile, scripts): its package is "." or the module.
var kcurlBuild = regexp.MustCompile(`go (build|install)\b[^;&|)]*?(\s\.(\s|\)|$)|github\.com/kcurl/kcurl@)`)

// TestEveryBuildOfKcurlHasItsTags: the README's commands, the image, the
// release, the benchmarks, try.sh and the e2e harness build the same
// binary, so that what is measured and tested is what users run.
func TestEveryBuildOfKcurlHasItsTags(t *testing.T) {
	files, err := filepath.Glob("../scripts/*.sh")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md", "../Dockerfile")
	found := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// A command continued with a backslash is one line here.
		for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
			for _, build := range kcurlBuild.FindAllString(line, -1) {
				found++
				if !strings.Contains(build, "-tags "+buildTags) {
					t.Errorf("%s builds kcurl without -tags %s: %s", path, buildTags, strings.TrimSpace(line))
				}
			}
		}
	}
	// The e2e harness builds with exec.Command's arguments.
	harness, err := os.ReadFile("../e2e/internal/harness/harness.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(harness), `"go", "build", "-tags", "`+buildTags+`"`) {
		t.Errorf("e2e/internal/harness builds kcurl without -tags %s", buildTags)
	}
	if found < 8 {
		t.Errorf("found %d builds of kcurl in the scripts, README and Dockerfile; the pattern no longer finds them", found)
	}
}

// TestBuildTagsLeaveOutTheDocsWriters: the tag still does what it is there
// for (a urfave/cli release could rename it).
func TestBuildTagsLeaveOutTheDocsWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-tags", buildTags, "-deps", "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range []string{"github.com/russross/blackfriday/v2", "github.com/cpuguy83/go-md2man/v2/md2man"} {
		if strings.Contains(string(out), pkg+"\n") {
			t.Errorf("kcurl built with -tags %s still links %s", buildTags, pkg)
		}
	}
	if !strings.Contains(string(out), "github.com/urfave/cli/v2\n") {
		t.Errorf("go list -deps did not list urfave/cli; its output:\n%s", out)
	}
}
