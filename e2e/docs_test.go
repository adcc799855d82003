//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// The docs' examples are what a reader gets: every `$ kcurl …` of
// README.md, docs/usage.md and docs/recipes.md runs, as scripts/try.sh runs
// it (the ServiceAccount kcurl-try with what scripts/try-identity.yaml and
// scripts/try-world.yaml give it), and prints what the docs show, but for
// what truly differs from run to run (docVolatile). A block that cannot run
// here says so in the doc, with a comment `<!-- not run here: WHY -->` on
// the line before it, and WHY names where it is checked instead.
func TestDocsExamples(t *testing.T) {
	s := tryIdentity(t)
	// Where kcurl is on the PATH, as in a Pod with kcurl in its image.
	s.Env["PATH"] = filepath.Dir(kcurlBin) + ":" + s.Env["PATH"]
	for _, doc := range []string{"README.md", "docs/usage.md", "docs/recipes.md"} {
		t.Run(doc, func(t *testing.T) {
			// Each document starts from the namespace try.sh makes: the
			// ConfigMaps another document made are gone.
			adminDo(t, "DELETE", "/api/v1/namespaces/kcurl-try/configmaps", nil)
			lastCode := 0
			for _, ex := range docExamples(t, filepath.Join(repoRoot, doc)) {
				if ex.command == "echo $?" {
					if got := strings.TrimSpace(ex.output); got != strconv.Itoa(lastCode) {
						t.Errorf("%s:%d: the example before exits %d, the doc says %s", doc, ex.line, lastCode, got)
					}
					continue
				}
				r := s.shell(ex.command + " 2>&1")
				lastCode = r.Code
				if got, want := normaliseDoc(r.Stdout), normaliseDoc(ex.output); !docMatches(got, want) {
					t.Errorf("%s:%d: $ %s\n--- the doc shows:\n%s\n--- kcurl printed (exit %d):\n%s", doc, ex.line, ex.command, ex.output, r.Code, r.Stdout)
				}
			}
		})
	}
}

// tryIdentity is scripts/try.sh's Pod: namespace and ServiceAccount
// kcurl-try with its Role, what the docs look at, and a Pod kcurl-try the
// token is bound to.
func tryIdentity(t *testing.T) *sandbox {
	t.Helper()
	s := &sandbox{t: t, NS: "kcurl-try", SA: "kcurl-try", Pod: "kcurl-try", Tmp: t.TempDir()}
	paths := map[string]string{
		"Namespace":                "/api/v1/namespaces",
		"ServiceAccount":           "/api/v1/namespaces/kcurl-try/serviceaccounts",
		"Role":                     "/apis/rbac.authorization.k8s.io/v1/namespaces/kcurl-try/roles",
		"RoleBinding":              "/apis/rbac.authorization.k8s.io/v1/namespaces/kcurl-try/rolebindings",
		"Deployment":               "/apis/apps/v1/namespaces/kcurl-try/deployments",
		"CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
	}
	for _, file := range []string{"try-identity.yaml", "try-world.yaml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "scripts", file))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer("@NS@", "kcurl-try", "@SA@", "kcurl-try").Replace(string(data))
		for _, part := range strings.Split(text, "\n---\n") {
			doc, err := yaml.YAMLToJSON([]byte(part))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var meta struct{ Kind string }
			if json.Unmarshal(doc, &meta) != nil || meta.Kind == "" {
				continue
			}
			if code, body := adminDo(t, "POST", paths[meta.Kind], json.RawMessage(doc)); code != 201 {
				t.Fatalf("%s: %s: HTTP %d: %s", file, meta.Kind, code, body)
			}
		}
	}
	// The CRD serves once it is established.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, _ := adminDo(t, "GET", "/apis/example.com/v1alpha1/namespaces/kcurl-try/databases", nil); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("databases.example.com is not served after 30 s")
		}
	}
	s.bindToPod(t)
	return s
}

// docExample is one `$ COMMAND` of a console block and the lines after it.
type docExample struct {
	line            int
	command, output string
}

// docExamples reads the console blocks of file: a command starts with
// "$ " and goes on while its quotes are open; what follows, to the next
// command or the block's end, is its output. Blocks after a `<!-- not run
// here: … -->` line are left out.
func docExamples(t *testing.T, file string) []docExample {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		examples          []docExample
		inBlock, skipping bool
		notRun            bool
		current           *docExample
		openQuote         bool
	)
	flush := func() {
		if current != nil {
			current.output = strings.TrimRight(current.output, "\n")
			examples = append(examples, *current)
		}
		current = nil
	}
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		switch {
		case !inBlock && strings.HasPrefix(line, "<!-- not run here:"):
			notRun = true
		case !inBlock && line == "```console":
			inBlock, skipping, notRun = true, notRun, false
		case !inBlock && strings.TrimSpace(line) != "":
			notRun = false
		case inBlock && line == "```":
			flush()
			inBlock = false
		case !inBlock || skipping:
		case openQuote:
			current.command += "\n" + line
			openQuote = strings.Count(current.command, "'")%2 == 1
		case strings.HasPrefix(line, "$ "):
			flush()
			current = &docExample{line: n, command: strings.TrimPrefix(line, "$ ")}
			openQuote = strings.Count(current.command, "'")%2 == 1
		case current != nil:
			current.output += line + "\n"
		}
	}
	return examples
}

// docVolatile is all that may differ between the docs and a run, and each
// is replaced by a word that names it: the apiserver's port, UIDs, times and
// what is left of them, the AGE of a table's rows, and the padding of
// columns (it follows the widest cell). Nothing else.
var docVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:PORT"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "UID"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`), "TIME"},
	{regexp.MustCompile(`\((\d+h)?(\d+m)?\d+s left\)|\(\d+ days left\)`), "(LEFT)"},
	{regexp.MustCompile(`"resourceVersion": ?"\d+"`), `"resourceVersion": "RV"`},
	{regexp.MustCompile(`(?m)(  |^)(\d+(s|m|h|d))+(  |$)`), "${1}AGE${4}"},
	{regexp.MustCompile(` {2,}`), "  "},
}

func normaliseDoc(text string) string {
	text = strings.TrimRight(text, "\n")
	for _, v := range docVolatile {
		text = v.re.ReplaceAllString(text, v.with)
	}
	return text
}

// docMatches: got is what the doc shows; a last line "…" in the doc
// stands for the rest of a long output.
func docMatches(got, want string) bool {
	if rest, ok := strings.CutSuffix(want, "\n…"); ok {
		return strings.HasPrefix(got, rest+"\n")
	}
	return got == want
}
