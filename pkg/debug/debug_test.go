package debug

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
)

// The ephemeral container for each shape of target: the target's service
// account at the standard path, read-only; the target's user and group
// (container over Pod, never root); restricted by construction.
func TestContainer(t *testing.T) {
	const mount = `"volumeMounts":[{"name":"kube-api-access-1","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]`
	const restricted = `"runAsNonRoot":true,"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]},"seccompProfile":{"type":"RuntimeDefault"}`
	cases := []struct {
		name, pod, want string
		code            int
	}{
		{"image user", `{"spec":{"containers":[{"name":"app",` + mount + `}]}}`,
			`{"name":"kcurl-abcde","image":"kcurl:1","command":["/kcurl"],"args":["whoami"],"targetContainerName":"app","terminationMessagePolicy":"File",` + mount +
				`,"securityContext":{"runAsUser":65532,` + restricted + `}}`, 0},
		{"pod user, container group", `{"spec":{"securityContext":{"runAsUser":2000,"runAsGroup":2000},"containers":[{"name":"app","securityContext":{"runAsGroup":3000},` + mount + `}]}}`,
			`{"name":"kcurl-abcde","image":"kcurl:1","command":["/kcurl"],"args":["whoami"],"targetContainerName":"app","terminationMessagePolicy":"File",` + mount +
				`,"securityContext":{"runAsUser":2000,"runAsGroup":3000,` + restricted + `}}`, 0},
		{"root is never asked for", `{"spec":{"containers":[{"name":"app","securityContext":{"runAsUser":0,"runAsGroup":0},"volumeMounts":[{"name":"sa","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount/","subPath":"x"}]}]}}`,
			`{"name":"kcurl-abcde","image":"kcurl:1","command":["/kcurl"],"args":["whoami"],"targetContainerName":"app","terminationMessagePolicy":"File","volumeMounts":[{"name":"sa","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true,"subPath":"x"}]` +
				`,"securityContext":{"runAsUser":65532,"runAsGroup":0,` + restricted + `}}`, 0},
		{"the default container's annotation", `{"metadata":{"annotations":{"kubectl.kubernetes.io/default-container":"app"}},"spec":{"containers":[{"name":"proxy"},{"name":"app",` + mount + `}]}}`,
			`{"name":"kcurl-abcde","image":"kcurl:1","command":["/kcurl"],"args":["whoami"],"targetContainerName":"app","terminationMessagePolicy":"File",` + mount +
				`,"securityContext":{"runAsUser":65532,` + restricted + `}}`, 0},
		{"the name is free", `{"spec":{"containers":[{"name":"app",` + mount + `}],"ephemeralContainers":[{"name":"kcurl-abcde"}]}}`,
			`{"name":"kcurl-fghjk"`, 0},
		{"no service account", `{"spec":{"containers":[{"name":"app"}]}}`, "", exitcode.Credentials},
		{"an ended Pod", `{"spec":{"containers":[{"name":"app",` + mount + `}]},"status":{"phase":"Succeeded"}}`, "", exitcode.Failed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p pod
			if err := json.Unmarshal([]byte(c.pod), &p); err != nil {
				t.Fatal(err)
			}
			suffixes := []string{"abcde", "fghjk"}
			d := &Debugger{Notices: io.Discard, Suffix: func() string { s := suffixes[0]; suffixes = suffixes[1:]; return s }}
			ec, err := d.container(&p, Options{Pod: "web", Image: "kcurl:1"})
			if c.code != 0 {
				if code, _ := exitcode.Of(err); code != c.code {
					t.Fatalf("want exit %d, got %v", c.code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(ec)
			if n := len(c.want); string(got) != c.want && (c.want[n-1] == '}' || len(got) < n || string(got[:n]) != c.want) {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
