package output

import (
	"fmt"
	"io"
	"strings"
	"text/template"
	"text/template/parse"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/printers"
)

// goTemplateFormat is -o go-template=… (template=, and their files):
// cli-runtime's GoTemplatePrinter.
type goTemplateFormat struct {
	text             string
	allowMissingKeys bool
	whole            *printers.GoTemplatePrinter
	plan             *goTemplatePlan // nil: a list is held whole
}

func newGoTemplateFormat(text string, allowMissingKeys bool) (*goTemplateFormat, error) {
	f := &goTemplateFormat{text: text, allowMissingKeys: allowMissingKeys}
	var err error
	if f.whole, err = f.printer(text); err != nil {
		return nil, fmt.Errorf("error parsing template %s, %v", text, err)
	}
	if allowMissingKeys {
		// With missingkey=error, the first item without the key stops
		// the template, after what it printed: the same item by item,
		// but its message would show the item, not the List.
		f.plan = planGoTemplate(text)
	}
	return f, nil
}

func (f *goTemplateFormat) printer(text string) (*printers.GoTemplatePrinter, error) {
	p, err := printers.NewGoTemplatePrinter([]byte(text))
	if err != nil {
		return nil, err
	}
	p.AllowMissingKeys(f.allowMissingKeys)
	return p, nil
}

func (f *goTemplateFormat) object(w io.Writer, obj map[string]any) error {
	return executionError(f.whole.PrintObj(&unstructured.Unstructured{Object: obj}, w))
}

func (f *goTemplateFormat) done(io.Writer) error { return nil }

func (f *goTemplateFormat) list(w io.Writer) listFormat {
	if f.plan == nil {
		return &heldList{print: func(list *unstructured.UnstructuredList) error {
			return executionError(f.whole.PrintObj(list, w))
		}}
	}
	return &goTemplateList{f: f, w: w}
}

// goTemplatePlan is a template split at its root nodes where it meets
// the list's items: before and after run on the List without its items,
// body ({{range .items}}BODY{{end}}) on each item.
type goTemplatePlan struct {
	before, body, after *printers.GoTemplatePrinter
}

type goTemplateList struct {
	f       *goTemplateFormat
	w       io.Writer
	started bool
}

func (l *goTemplateList) shell(p *printers.GoTemplatePrinter) error {
	if p == nil {
		return nil
	}
	return executionError(p.PrintObj(kubectlList(nil), l.w))
}

func (l *goTemplateList) item(obj map[string]any) error {
	if !l.started {
		l.started = true
		if err := l.shell(l.f.plan.before); err != nil {
			return err
		}
	}
	if l.f.plan.body == nil {
		return nil
	}
	return executionError(l.f.plan.body.PrintObj(&unstructured.Unstructured{Object: obj}, l.w))
}

func (l *goTemplateList) end() error {
	if !l.started {
		l.started = true
		if err := l.shell(l.f.plan.before); err != nil {
			return err
		}
	}
	return l.shell(l.f.plan.after)
}

// templateParseFuncs stand for cli-runtime's template functions, so that
// a template using them parses here as it does there.
var templateParseFuncs = template.FuncMap{
	"exists":       func(any, ...any) bool { return false },
	"base64decode": func(string) (string, error) { return "", nil },
}

// planGoTemplate returns the plan, or nil when the template needs the
// whole list: a variable, {{.}}, .items other than in one top-level
// {{range .items}} without else, or a template definition.
func planGoTemplate(text string) *goTemplatePlan {
	t, err := template.New("output").Funcs(templateParseFuncs).Parse(text)
	if err != nil || len(t.Templates()) > 1 || t.Tree == nil {
		return nil
	}
	var before, after strings.Builder
	var body string
	sawItems := false
	for _, n := range t.Tree.Root.Nodes {
		if r, ok := n.(*parse.RangeNode); ok && rangesOverItems(r) {
			if sawItems || !readsOnlyDot(r.List) {
				return nil
			}
			sawItems, body = true, r.List.String()
			continue
		}
		if !readsOnlyDot(n) || readsItems(n) {
			return nil
		}
		if sawItems {
			after.WriteString(n.String())
		} else {
			before.WriteString(n.String())
		}
	}
	plan := &goTemplatePlan{}
	for _, part := range []struct {
		text string
		dst  **printers.GoTemplatePrinter
	}{{before.String(), &plan.before}, {body, &plan.body}, {after.String(), &plan.after}} {
		if part.text == "" {
			continue
		}
		p, err := printers.NewGoTemplatePrinter([]byte(part.text))
		if err != nil {
			return nil
		}
		p.AllowMissingKeys(true)
		*part.dst = p
	}
	return plan
}

// rangesOverItems: {{range .items}}, no variables, no else.
func rangesOverItems(r *parse.RangeNode) bool {
	if r.ElseList != nil || len(r.Pipe.Decl) > 0 || len(r.Pipe.Cmds) != 1 || len(r.Pipe.Cmds[0].Args) != 1 {
		return false
	}
	f, ok := r.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
	return ok && len(f.Ident) == 1 && f.Ident[0] == "items"
}

// readsOnlyDot: no variable ($ is the whole List, and a variable set at the
// top level is seen later), no {{template}}, and no {{.}}.
func readsOnlyDot(n parse.Node) bool {
	ok := true
	walkTemplate(n, func(n parse.Node) {
		switch n.(type) {
		case *parse.VariableNode, *parse.TemplateNode, *parse.DotNode:
			ok = false
		}
	})
	return ok
}

// readsItems: a field named items anywhere in n.
func readsItems(n parse.Node) bool {
	found := false
	walkTemplate(n, func(n parse.Node) {
		switch n := n.(type) {
		case *parse.FieldNode:
			found = found || (len(n.Ident) > 0 && n.Ident[0] == "items")
		case *parse.ChainNode:
			found = found || (len(n.Field) > 0 && n.Field[0] == "items")
		}
	})
	return found
}

// walkTemplate calls fn on n and every node under it.
func walkTemplate(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, fn)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, d := range n.Decl {
			walkTemplate(d, fn)
		}
		for _, c := range n.Cmds {
			walkTemplate(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkTemplate(a, fn)
		}
	case *parse.ChainNode:
		walkTemplate(n.Node, fn)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walkTemplate(b.Pipe, fn)
	if b.List != nil {
		walkTemplate(b.List, fn)
	}
	if b.ElseList != nil {
		walkTemplate(b.ElseList, fn)
	}
}
