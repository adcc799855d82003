package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"
)

// A newcomer types kubectl's verbs first (`kcurl get pods`, `kcurl apply -f
// f.yaml`). kcurl has no verbs, only requests, so each is answered with the
// kcurl line that does the same, before urfave/cli could read apply's -f as
// --follow. The verbs that kcurl has as commands (exec, wait, can-i, …) are
// commands and never reach here.

// kubectlValueFlags are kubectl's flags that take a value, by every name:
// their values are not the words of the command.
var kubectlValueFlags = map[string]bool{
	"n": true, "namespace": true, "l": true, "selector": true, "o": true, "output": true,
	"f": true, "filename": true, "c": true, "container": true, "p": true, "patch": true,
	"field-selector": true, "type": true, "replicas": true, "tail": true, "since": true,
	"context": true, "kubeconfig": true, "as": true, "image": true, "k": true, "kustomize": true,
	"server": true, "token": true, "field-manager": true, "sort-by": true, "dry-run": true,
	"L": true, "label-columns": true,
}

// kubectlPassed are the kubectl flags kcurl has too (same name, same
// meaning): they go into the kcurl line as typed.
var kubectlPassed = map[string]bool{
	"n": true, "namespace": true, "l": true, "selector": true, "o": true, "output": true,
	"A": true, "all-namespaces": true, "w": true, "watch": true, "watch-only": true,
	"field-selector": true, "context": true, "kubeconfig": true, "as": true, "as-group": true,
	"server": true, "token": true, "field-manager": true, "force-conflicts": true, "sort-by": true,
	"show-labels": true, "show-kind": true, "no-headers": true, "L": true, "label-columns": true,
	"ignore-not-found": true,
}

// kubectlTableFlags are kubectl get's flags that shape its table, which
// kcurl's take with -o table.
var kubectlTableFlags = []string{"show-labels", "show-kind", "no-headers", "L", "label-columns"}

// kubectlLogPassed are the log flags of kubectl logs that kcurl has.
var kubectlLogPassed = map[string]bool{
	"c": true, "container": true, "f": true, "follow": true, "p": true, "previous": true,
	"tail": true, "since": true, "timestamps": true,
}

// kubectlCall is what was typed after the verb: its words, the flags kcurl
// shares (as typed), and the values of the flags the translation reads.
type kubectlCall struct {
	verb   string
	words  []string
	passed []string
	values map[string]string
	bools  map[string]bool
}

// kubectlHabit: args (the command line) start with one of kubectl's verbs
// that kcurl does not have. help is kcurl's answer to `kcurl help [CMD]`: the
// arguments that print the help instead; err is the usage error that says
// the kcurl line (report says it as the user runs kcurl: kubectl kcurl).
func kubectlHabit(args []string, app *cli.App, now time.Time) (help []string, err error) {
	takesValue, _ := flagArity(app.Flags)
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil, nil
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			if flag := strings.TrimLeft(a, "-"); takesValue[flag] {
				i++ // its value
			}
			continue
		}
		if a == "help" {
			return helpArgs(args[0], args[i+1:], app), nil
		}
		if app.Command(a) != nil || !isKubectlVerb(a) {
			return nil, nil
		}
		call := parseKubectl(a, args[i+1:])
		call.passed = append(slicesClone(args[1:i]), call.passed...)
		line, note := call.kcurlLine(now)
		if note != "" {
			note = " (" + note + ")"
		}
		if line == "" {
			return nil, usagef("%s is kubectl's, and kcurl has no form of it%s: kcurl sends API requests (kcurl --help)", a, note)
		}
		return nil, usagef("%s is kubectl's; in kcurl: %s%s", a, line, note)
	}
	return nil, nil
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// helpArgs are the arguments that print the help of what follows `help`:
// a command's, or kcurl's.
func helpArgs(argv0 string, rest []string, app *cli.App) []string {
	if len(rest) > 0 && app.Command(rest[0]) != nil {
		return []string{argv0, rest[0], "--help"}
	}
	return []string{argv0, "--help"}
}

var kubectlVerbs = map[string]bool{
	"get": true, "describe": true, "logs": true, "log": true, "delete": true, "apply": true, "create": true,
	"replace": true, "edit": true, "patch": true, "scale": true, "rollout": true, "label": true,
	"annotate": true, "cordon": true, "uncordon": true, "top": true, "run": true, "auth": true,
	"api-versions": true, "cluster-info": true, "diff": true, "expose": true, "set": true,
	"autoscale": true, "drain": true, "taint": true, "certificate": true, "kustomize": true,
	"plugin": true, "alpha": true, "options": true,
}

func isKubectlVerb(word string) bool { return kubectlVerbs[word] }

// parseKubectl reads what follows verb as kubectl would.
func parseKubectl(verb string, rest []string) kubectlCall {
	call := kubectlCall{verb: verb, values: map[string]string{}, bools: map[string]bool{}}
	logs := verb == "logs" || verb == "log"
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			call.words = append(call.words, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || len(a) == 1 {
			call.words = append(call.words, a)
			continue
		}
		flag, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && !strings.HasPrefix(a, "--") && len(flag) > 1 && kubectlValueFlags[flag[:1]] {
			// -oyaml, -Lapp: passed on as -o yaml, -L app.
			flag, value, hasValue = flag[:1], flag[1:], true
			a = "-" + flag
		}
		takes := kubectlValueFlags[flag] && !(logs && (flag == "f" || flag == "p"))
		if takes && !hasValue && i+1 < len(rest) {
			value, hasValue = rest[i+1], true
			i++
		}
		passed := kubectlPassed[flag] || logs && kubectlLogPassed[flag]
		switch {
		case passed && hasValue && !strings.Contains(a, "="):
			call.passed = append(call.passed, a, value)
		case passed:
			call.passed = append(call.passed, a)
		}
		if hasValue {
			call.values[flag] = value
		} else {
			call.bools[flag] = true
		}
	}
	return call
}

// withoutFlags is passed, the flags typed (-L v, --show-labels,
// --label-columns=v) without those named.
func withoutFlags(passed, names []string) []string {
	var kept []string
	for i := 0; i < len(passed); i++ {
		flag, _, hasValue := strings.Cut(strings.TrimLeft(passed[i], "-"), "=")
		if !slices.Contains(names, flag) {
			kept = append(kept, passed[i])
			continue
		}
		if !hasValue && kubectlValueFlags[flag] {
			i++ // its value
		}
	}
	return kept
}

// given: the flag was typed, with a value or without.
func (k kubectlCall) given(name string) bool {
	_, hasValue := k.values[name]
	return hasValue || k.bools[name]
}

// value is the first of the flag names given a value.
func (k kubectlCall) value(names ...string) string {
	for _, n := range names {
		if v, ok := k.values[n]; ok {
			return v
		}
	}
	return ""
}

// ref is the object the words name: TYPE/NAME, or TYPE NAME; "" without
// a name. typ is the type alone.
func (k kubectlCall) ref() (ref, typ string) {
	if len(k.words) == 0 {
		return "", ""
	}
	if t, _, ok := strings.Cut(k.words[0], "/"); ok {
		return k.words[0], t
	}
	if len(k.words) > 1 {
		return k.words[0] + "/" + k.words[1], k.words[0]
	}
	return "", k.words[0]
}

// line joins a kcurl command line, each word quoted for a POSIX shell
// where it needs it, the flags passed through at the end.
func (k kubectlCall) line(words ...string) string {
	all := append(append([]string{"kcurl"}, words...), k.passed...)
	for i, w := range all {
		all[i] = shellQuote(w)
	}
	return strings.Join(all, " ")
}

func shellQuote(w string) string {
	if w != "" && strings.IndexFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=,%+{}", r))
	}) < 0 {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// kcurlLine is the kcurl command for the call, and a note on what differs;
// "" when kcurl has none.
func (k kubectlCall) kcurlLine(now time.Time) (line, note string) {
	ref, typ := k.ref()
	switch k.verb {
	case "get":
		return k.get(ref, typ)
	case "describe":
		if ref == "" {
			return k.line(orPlaceholder(typ, "TYPE"), "-o", "yaml"), ""
		}
		_, name, _ := strings.Cut(ref, "/")
		return k.line(ref, "-o", "yaml"), "its events: kcurl events --field-selector involvedObject.name=" + name
	case "logs", "log":
		return k.logs()
	case "delete":
		return k.delete(ref, typ)
	case "apply", "diff":
		return k.apply()
	case "create", "replace":
		return k.create(ref, typ)
	case "edit":
		ref = orPlaceholder(ref, orPlaceholder(typ, "TYPE")+"/NAME")
		return k.line(ref, "-o", "yaml") + " >obj.yaml; then, edited: " + k.line(ref, "-X", "PUT", "-d", "@obj.yaml"), ""
	case "patch":
		patchType := k.value("type")
		if patchType == "" {
			patchType = "strategic" // kubectl patch's default
		}
		return k.line(orPlaceholder(ref, "TYPE/NAME"), "-X", "PATCH", "--type", patchType, "-d", orPlaceholder(k.value("p", "patch"), "PATCH")), ""
	case "scale":
		return k.line(orPlaceholder(ref, "TYPE/NAME")+"/scale", "-X", "PATCH", "-d", "spec: {replicas: "+orPlaceholder(k.value("replicas"), "N")+"}"), ""
	case "rollout":
		return k.rollout(now)
	case "label", "annotate":
		return k.label()
	case "cordon", "uncordon":
		return k.line("nodes/"+orPlaceholder(firstWord(k.words), "NODE"), "-X", "PATCH", "-d", fmt.Sprintf("spec: {unschedulable: %t}", k.verb == "cordon")), ""
	case "top":
		if typ == "node" || typ == "nodes" || typ == "no" {
			return k.line("/apis/metrics.k8s.io/v1beta1/nodes"), "needs metrics-server"
		}
		return k.line("/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"), "needs metrics-server"
	case "run":
		return k.run()
	case "auth":
		if len(k.words) > 0 && (k.words[0] == "can-i" || k.words[0] == "whoami") {
			return k.line(k.words...), ""
		}
	case "api-versions":
		return k.line("/apis", "-q", ".groups[].preferredVersion.groupVersion", "-r"), "the core group is v1"
	case "cluster-info":
		return k.line("config"), "kcurl /version for the server's version"
	}
	return "", ""
}

func orPlaceholder(v, placeholder string) string {
	if v == "" {
		return placeholder
	}
	return v
}

func firstWord(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

func (k kubectlCall) get(ref, typ string) (line, note string) {
	switch output := k.value("o", "output"); {
	case output == "":
		// kubectl's table, which kcurl prints when asked (its own
		// default is the answer's JSON).
		k.passed = append([]string{"-o", "table"}, k.passed...)
	case output != "wide" && !strings.HasPrefix(output, "custom-columns"):
		// kubectl ignores its table's flags with another output; kcurl
		// would refuse them.
		k.passed = withoutFlags(k.passed, kubectlTableFlags)
	}
	switch {
	case len(k.words) == 0:
		return k.line("TYPE"), "kcurl api-resources lists the types"
	case ref == "":
		return k.line(typ), ""
	case len(k.words) > 2 || strings.Contains(k.words[0], "/") && len(k.words) > 1:
		return k.line(ref), "one object at a time"
	}
	return k.line(ref), ""
}

// logs: only Pods have logs; a Pod is NAME, pod/NAME, po/NAME or pods/NAME.
func (k kubectlCall) logs() (line, note string) {
	pod := orPlaceholder(firstWord(k.words), "POD")
	if len(k.words) > 1 {
		k.passed = append(k.passed, "-c", k.words[1])
	}
	typ, name, ok := strings.Cut(pod, "/")
	switch {
	case !ok:
		name = pod
	case typ == "pod" || typ == "pods" || typ == "po":
	default:
		return k.line("pods/POD/log"), "only Pods have logs; kcurl " + pod + " -q .spec.selector says which Pods are its"
	}
	return k.line("pods/" + name + "/log"), ""
}

func (k kubectlCall) delete(ref, typ string) (line, note string) {
	switch {
	case ref != "":
		return k.line(ref, "-X", "DELETE"), ""
	case k.value("l", "selector") != "" || k.value("field-selector") != "":
		return k.line(orPlaceholder(typ, "TYPE"), "-X", "DELETE"), ""
	}
	return k.line(orPlaceholder(typ, "TYPE")+"/NAME", "-X", "DELETE"), ""
}

// apply is server-side apply of the file's object at its own path; diff
// the same, as a dry run that prints the result.
func (k kubectlCall) apply() (line, note string) {
	file := k.value("f", "filename")
	if file == "" {
		return k.line("TYPE/NAME", "--type", "apply", "-d", "@FILE"), "server-side apply"
	}
	ref, note := manifestRef(file, true)
	words := []string{ref, "--type", "apply", "-d", "@" + file}
	if k.verb == "diff" {
		words = append(words, "--dry-run")
		note = strings.TrimPrefix(note+"; the object as it would be", "; ")
	} else {
		note = strings.TrimPrefix("server-side apply; "+note, "; ")
		note = strings.TrimSuffix(note, "; ")
	}
	return k.line(words...), note
}

// create POSTs to the collection (replace PUTs to the object).
func (k kubectlCall) create(ref, typ string) (line, note string) {
	file := k.value("f", "filename")
	if k.verb == "replace" {
		target, note := manifestRef(orPlaceholder(file, "FILE"), true)
		return k.line(target, "-X", "PUT", "-d", "@"+orPlaceholder(file, "FILE")), note
	}
	if file != "" {
		target, note := manifestRef(file, false)
		return k.line(target, "-d", "@"+file), note
	}
	if typ == "" {
		typ = "TYPE"
	}
	if typ == "token" && len(k.words) > 1 {
		return k.line("serviceaccounts/"+k.words[1]+"/token", "-d", "{}", "-q", ".status.token", "-r"), ""
	}
	_ = ref
	return k.line(typ, "-d", "@"+typ+".yaml"), "the object, written as YAML or JSON"
}

// manifestRef is KIND/NAME (withName) or KIND of the first object in a
// manifest file, read here to say the path; placeholders where it cannot be
// read.
func manifestRef(file string, withName bool) (ref, note string) {
	kind, name, docs := "KIND", "NAME", 0
	if data, err := os.ReadFile(file); err == nil {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			if j, err := yaml.YAMLToJSON(doc); err == nil && json.Unmarshal(j, &meta) == nil && meta.Kind != "" {
				if docs == 0 {
					kind, name = meta.Kind, orPlaceholder(meta.Metadata.Name, "NAME")
				}
				docs++
			}
		}
	}
	if docs > 1 {
		note = "one object per request: the file has " + fmt.Sprint(docs)
	}
	if withName {
		return kind + "/" + name, note
	}
	return kind, note
}

func (k kubectlCall) rollout(now time.Time) (line, note string) {
	action, ref := firstWord(k.words), ""
	if len(k.words) > 1 {
		ref = k.words[1]
		if !strings.Contains(ref, "/") && len(k.words) > 2 {
			ref += "/" + k.words[2]
		}
	}
	ref = orPlaceholder(ref, "deploy/NAME")
	switch action {
	case "restart":
		stamp := now.UTC().Format(time.RFC3339)
		return k.line(ref, "-X", "PATCH", "-d", `spec: {template: {metadata: {annotations: {kubectl.kubernetes.io/restartedAt: "`+stamp+`"}}}}`), ""
	case "status":
		return k.line("wait", ref, "--for", ".status.updatedReplicas == .spec.replicas and .status.readyReplicas == .spec.replicas", "--timeout", "5m"), ""
	case "pause", "resume":
		return k.line(ref, "-X", "PATCH", "-d", fmt.Sprintf("spec: {paused: %t}", action == "pause")), ""
	}
	return "", "kcurl rs -o wide lists a Deployment's ReplicaSets, its revisions"
}

// label and annotate: a merge patch of metadata; KEY- removes KEY.
func (k kubectlCall) label() (line, note string) {
	ref, _ := k.ref()
	field := map[string]string{"label": "labels", "annotate": "annotations"}[k.verb]
	changes := map[string]any{}
	for _, w := range k.words[min(len(k.words), 1+boolInt(!strings.Contains(firstWord(k.words), "/"))):] {
		if key, value, ok := strings.Cut(w, "="); ok {
			changes[key] = value
		} else if key, ok := strings.CutSuffix(w, "-"); ok {
			changes[key] = nil
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{field: changes}})
	return k.line(orPlaceholder(ref, "TYPE/NAME"), "-X", "PATCH", "-d", string(patch)), ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (k kubectlCall) run() (line, note string) {
	name, image := orPlaceholder(firstWord(k.words), "NAME"), orPlaceholder(k.value("image"), "IMAGE")
	pod := fmt.Sprintf("{metadata: {name: %s}, spec: {containers: [{name: %s, image: %s}]}}", name, name, image)
	return k.line("pods", "-d", pod), ""
}
