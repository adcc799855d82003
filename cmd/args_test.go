package cmd

import (
	"slices"
	"strings"
	"testing"
)

// interspersed is the one place that lets flags follow the path; every way a
// curl, jq or kubectl user types them is here.
// A flag before a command that the command does not have is refused, not
// dropped: `kcurl -q .x whoami` would otherwise ignore -q without a word.
func TestInterspersedRefusesStrayFlags(t *testing.T) {
	app := newApp(Streams{})
	for _, args := range []string{"-q .x whoami -o json", "-s config", "-X DELETE api-resources", "--all whoami"} {
		if _, err := interspersed(append([]string{"kcurl"}, strings.Fields(args)...), app); err == nil {
			t.Errorf("%q: accepted", args)
		} else if want := "does not apply to"; !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", args, err)
		}
	}
	if _, err := interspersed([]string{"kcurl", "-h", "whoami"}, app); err != nil {
		t.Errorf("-h before a command: %v", err)
	}
}

func TestInterspersed(t *testing.T) {
	tests := []struct {
		name string
		args string
		want string
	}{
		{"flags before the path stay", "-v /api", "-v /api"},
		{"a flag after the path moves in front", "/api -v", "-v /api"},
		{"a flag value after the path moves with its flag", "/api -n kube-system -q .kind", "-n kube-system -q .kind /api"},
		{"flag=value after the path", "/api --namespace=x", "--namespace=x /api"},
		{"curl's attached method", "/api -XPOST", "-X POST /api"},
		{"curl's attached data file", "/api -d@body.json", "-d @body.json /api"},
		{"combined booleans are split", "/api -sv", "-s -v /api"},
		{"booleans then a flag with the next argument as its value", "/api -rq .kind", "-r -q .kind /api"},
		{"booleans then a flag with its value attached", "/echo -sXPOST -d {}", "-s -X POST -d {} /echo"},
		{"jq's two-value --arg", "/api --arg name web -q .x", "--arg name\x00web -q .x /api"},
		{"jq's two-value --argjson", "/api --argjson n 3", "--argjson n\x003 /api"},
		{"a value with = in it stays whole", "/api --arg a=b c", "--arg a=b\x00c /api"},
		{"a value that looks like a path stays a value", "-d /etc/x /api", "-d /etc/x /api"},
		{"a data value starting with a dash stays a value", "/api -q -1", "-q -1 /api"},
		{"-- ends the flags", "-v -- /api -x", "-v -- /api -x"},
		{"unknown flags are left for the parser to reject", "/api --bogus", "--bogus /api"},
		{"two paths both stay positional", "/api -v /apis", "-v /api /apis"},
		{"help after the path", "/api --help", "--help /api"},
		{"a command's own flags typed before it move after its name", "-n prod -k can-i list pods", "can-i -n prod -k list pods"},
		{"a command's flags after its arguments", "can-i list pods -n prod", "can-i -n prod list pods"},

		// -c is jq's compact output, except on a log: kubectl's container.
		{"-c elsewhere is compact output", "pods/web -c", "-c pods/web"},
		{"-c on a log is the container", "pods/web/log -c app", "--container app pods/web/log"},
		{"-c with its value attached", "pods/web/log -capp", "--container=app pods/web/log"},
		{"-c=value", "pods/web/log -c=app", "--container=app pods/web/log"},
		{"-c before the log", "-c app pods/web/log", "--container app pods/web/log"},
		{"-c on a PATH ending in /log", "/api/v1/namespaces/ns1/pods/web/log -c app", "--container app /api/v1/namespaces/ns1/pods/web/log"},
		{"a query after /log", "/api/v1/namespaces/ns1/pods/web/log?tailLines=5 -c app", "--container app /api/v1/namespaces/ns1/pods/web/log?tailLines=5"},
		{"a trailing slash after /log", "pods/web/log/ -c app", "--container app pods/web/log/"},
		{"with other log flags around it", "-n prod pods/web/log -f -c app --tail 5", "-n prod -f --container app --tail 5 pods/web/log"},
		{"--container as typed", "pods/web/log --container app", "--container app pods/web/log"},
		{"-c that would swallow the log stays compact", "-c /api/v1/namespaces/ns1/pods/web/log", "-c /api/v1/namespaces/ns1/pods/web/log"},
		{"logs is not a log", "pods/web/logs -c", "-c pods/web/logs"},
		{"a catalog is not a log", "/apis/example.com/v1/catalog -c", "-c /apis/example.com/v1/catalog"},
	}
	app := newApp(Streams{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := interspersed(append([]string{"kcurl"}, strings.Fields(tt.args)...), app)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"kcurl"}, strings.Fields(tt.want)...)
			if !slices.Equal(got, want) {
				t.Errorf("interspersed(%q)\n got %q\nwant %q", tt.args, got, want)
			}
		})
	}
}

// A usage error points at the help of the command it is in: the help of
// exec, not the whole tool's, for a mistake in an exec.
func TestHelpTopic(t *testing.T) {
	app := newApp(Streams{})
	for args, want := range map[string]string{
		"":                                       "",
		"/api -v":                                "",
		"cm -X PATCH -d {}":                      "",
		"get pods":                               "", // kubectl's verb: kcurl's own help says the form
		"-n exec pods":                           "", // exec is -n's value
		"exec web -- ls":                         "exec",
		"exec web -c":                            "exec",
		"-n prod can-i list pods":                "can-i",
		"port-forward -n x web 8080":             "port-forward",
		"--kubeconfig f config get-contexts a b": "config get-contexts",
		"config --kubeconfig f view --raw":       "config view",
		"config use-context prod":                "config",
		"config":                                 "config",
		"--context exec config get-clusters extra": "config get-clusters",
	} {
		if got := helpTopic(append([]string{"kcurl"}, strings.Fields(args)...), app); got != want {
			t.Errorf("kcurl %s: help topic %q, want %q", args, got, want)
		}
	}
}
