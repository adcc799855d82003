package cmd

// The help a newcomer needs first (commented examples, kubectl's habits in
// kcurl's words) and a script author needs last (where the server comes
// from, exit codes), rendered by helptext.go. docs/reference.md and
// docs/kcurl.1 are this same text (docs_test.go). Nothing here points at
// files of the source repository: inside a Pod there are none.

const usageNote = "PATH is an API path such as /api/v1/namespaces/{namespace}/pods; " +
	"RESOURCE is kubectl's shorthand: pods, po/web, deploy/web/scale, deployments.apps. " +
	"Flags may follow the PATH, as with curl."

var appExamples = []example{
	{"the API's versions, with the Pod's own credentials", "kcurl /api"},
	{"the names of the Pods in this Pod's namespace", "kcurl pods -q '.items[].metadata.name' -r"},
	{"a merge patch, written in YAML", "kcurl deploy/web -X PATCH -d 'spec: {replicas: 3}'"},
	{"watch ConfigMaps change, one line per event", `kcurl cm -w -q '"\(.type) \(.object.metadata.name)"' -r`},
	{"who the server says this Pod is, and what its token claims", "kcurl whoami"},
	{"wait for the Secret to exist (a watch; exit 1 on timeout)", "kcurl wait secret/db --for create --timeout 2m"},
	{"the fields of a type, from the server's OpenAPI", "kcurl explain deploy.spec.strategy"},
}

// kubectlRows are kubectl's habits and their kcurl lines (habits.go says
// the same when a verb is typed).
var kubectlRows = [][2]string{
	{"kubectl get pods", "kcurl pods -o table"},
	{"kubectl get pod web -o yaml", "kcurl pods/web -o yaml"},
	{"kubectl logs web -c app -f", "kcurl pods/web/log -c app -f"},
	{"kubectl delete cm web-config", "kcurl cm/web-config -X DELETE"},
	{"kubectl apply -f web.yaml", "kcurl deploy/web --type apply -d @web.yaml"},
	{"kubectl scale deploy/web --replicas 3", "kcurl deploy/web/scale -X PATCH -d 'spec: {replicas: 3}'"},
	{"kubectl auth can-i list pods", "kcurl can-i list pods"},
	{"kubectl exec|cp|wait|explain", "kcurl exec|cp|wait|explain (the same)"},
}

const credentialsText = `1. an explicit kubeconfig: --kubeconfig, --context, --cluster, --user or $KUBECONFIG
2. the Pod: flags, $KUBERNETES_SERVICE_HOST/_PORT_HTTPS, and the service account in /var/run/secrets/kubernetes.io/serviceaccount (or another container's, through /proc)
3. ~/.kube/config
--server, --token, --token-file, --cacert, -k and -n override single values of the one chosen.`

const exitCodesText = `0 success
1 -e: the last jq result false, null or none; can-i: no; wait: not met in time
2 usage: a bad flag, argument, jq expression or body (nothing was sent)
3 no cluster or credentials found
4 the server answered 4xx (Forbidden, NotFound, Conflict)
5 the server answered 5xx
6 network: DNS, connect, TLS, timeout, connection reset
141 stdout was closed early (| head): SIGPIPE, as for kubectl and jq`

// commandDoc is what a command's help shows beyond its flags.
type commandDoc struct {
	examples []example
	exit     string
}

const requestExits = "0 success; 2 usage; 3 no credentials; 4 HTTP 4xx; 5 HTTP 5xx; 6 network"

var commandDocs = map[string]commandDoc{
	"api-resources": {
		examples: []example{
			{"every resource type, as a table", "kcurl api-resources"},
			{"the names of a group's types", "kcurl api-resources --api-group apps -o name"},
			{"every type a namespace holds that can be listed (kubectl's idiom)", "kcurl api-resources --verbs=list --namespaced -o name"},
		},
		exit: requestExits,
	},
	"whoami": {
		examples: []example{
			{"who the server says kcurl is, and the token's claims", "kcurl whoami"},
			{"when the token expires", "kcurl whoami -o json | jq -r .token.exp"},
		},
		exit: requestExits,
	},
	"can-i": {
		examples: []example{
			{"yes or no, and exit 0 or 1", "kcurl can-i list pods"},
			{"the answer as the exit code alone", "if kcurl can-i -q get deploy/web; then echo may read web; fi"},
			{"every rule that applies in the namespace", "kcurl can-i --list"},
		},
		exit: "0 yes; 1 no; 2 usage; 3 no credentials; 4, 5, 6 as for any request",
	},
	"wait": {
		examples: []example{
			{"until the Secret exists", "kcurl wait secret/db-credentials --for create"},
			{"until the Deployment's replicas are ready", "kcurl wait deploy/web --for '.status.readyReplicas == .spec.replicas'"},
			{"until every Pod labelled app=web is Ready", "kcurl wait pods -l app=web --for condition=Ready"},
		},
		exit: "0 met; 1 not met within --timeout (what was last seen on stderr); 2 usage; 3 no credentials; " +
			"4 no right to list or watch, at once, or another 4xx; 5 HTTP 5xx; 6 network",
	},
	"explain": {
		examples: []example{
			{"a field of a built-in type", "kcurl explain pods.spec.containers"},
			{"every field of a custom resource", "kcurl explain widgets.example.com --recursive"},
		},
		exit: "0 success; 2 usage, or a field the schema does not have; 3 no credentials; 4 no OpenAPI v3; 5 HTTP 5xx; 6 network",
	},
	"debug": {
		examples: []example{
			{"kcurl whoami, as web's service account", "kcurl debug web --image REGISTRY/kcurl:v1"},
			{"the answer is the exit code (image from $KCURL_IMAGE)", "kcurl debug web -- can-i list secrets -q"},
			{"as container app's service account", "kcurl debug web --target app -- pods -o name"},
		},
		exit: "the inner kcurl's exit code; before it runs: 1 the container did not start within --timeout; 2 usage, " +
			"no image, an unknown container or a name in use; 3 a target without a service account; 4 a missing right",
	},
	"config": {
		examples: []example{
			{"the server, namespace, CA and token, and where each came from", "kcurl config"},
			{"the kubeconfig's contexts, as kubectl config get-contexts", "kcurl config get-contexts"},
			{"the current one's name, as kubectl config current-context", "kcurl config current-context"},
			{"the current context's namespace, kubectl's idiom (secrets are never shown)", "kcurl config view --minify -o jsonpath='{..namespace}'"},
		},
		exit: "0 success; 2 usage; 3 no cluster or credentials found",
	},
	"proxy": {
		examples: []example{
			{"the API on http://127.0.0.1:8001 for the Pod's other containers", "kcurl proxy"},
			{"a free port, one line per request on stderr", "kcurl proxy -p 0 -v"},
		},
		exit: "0 stopped by SIGTERM or SIGINT; 1 cannot listen; 2 usage; 3 no credentials",
	},
	"version": {
		examples: []example{
			{"version, commit, build date, Go version and platform", "kcurl version"},
		},
		exit: "0 success; 2 usage",
	},
	"completion": {
		examples: []example{
			{"bash or zsh", "source <(kcurl completion bash)"},
			{"fish", "kcurl completion fish | source"},
		},
		exit: "0 success; 2 usage",
	},
	"exec": {
		examples: []example{
			{"a command in the Pod's default container", "kcurl exec web -- ls /"},
			{"a shell in a Deployment's Pod, in a raw terminal", "kcurl exec -it deploy/web -c app -- sh"},
			{"stdin to the command", "echo hi | kcurl exec -i web -- cat"},
		},
		exit: "the command's exit code (after `command terminated with exit code N` on stderr); before it starts: " +
			"1 it cannot start, or no Pod of TYPE/NAME ran within --pod-running-timeout; 2 usage; 3 no credentials; " +
			"4 a missing right or no such Pod; 5 the server or kubelet failed (a container that ended); " +
			"6 network, or the stream cut short; 1 its output could not be written here; " +
			"Ctrl-C, SIGTERM or SIGHUP ends kcurl by that signal, as kubectl (a shell says 130, 143, 129)",
	},
	"attach": {
		examples: []example{
			{"the main process's output", "kcurl attach web"},
			{"a terminal (the container has stdin: true, tty: true)", "kcurl attach -it web -c shell"},
		},
		exit: "0 when the process ends, whatever its code, as kubectl (the Pod's status has it); before: 1 no Pod of TYPE/NAME ran within --pod-running-timeout; " +
			"2 usage (a container the Pod does not have); 3 no credentials; " +
			"4 a missing right or no such Pod; 5 the server or kubelet failed; 6 network, or the stream cut short; " +
			"Ctrl-C, SIGTERM or SIGHUP ends kcurl by that signal, as kubectl (a shell says 130, 143, 129)",
	},
	"port-forward": {
		examples: []example{
			{"local port 8080 to the Pod's 80", "kcurl port-forward web 8080:80"},
			{"a free local port, to the Service's Pod", "kcurl port-forward svc/web :80"},
			{"two ports, on every address", "kcurl port-forward deploy/web 8080 9090 --address 0.0.0.0"},
		},
		exit: "0 stopped by Ctrl-C, SIGTERM or SIGHUP, or at --max-time; 1 cannot listen on any of the ports, " +
			"or no Pod of TYPE/NAME ran within --pod-running-timeout; 2 usage; 3 no credentials; 4 a missing right; " +
			"6 the connection to the Pod was lost, or the Pod is gone (deleted, replaced)",
	},
	"cp": {
		examples: []example{
			{"a directory from the container", "kcurl cp web:/etc/nginx ./nginx"},
			{"a file into a container of a Pod in namespace prod", "kcurl cp ./site.conf prod/web:/etc/nginx/conf.d/ -c nginx"},
		},
		exit: "0 success; 1 no tar in the container, or it failed, or a local file could not be read or written; " +
			"2 usage; 3 no credentials; 4 a missing right; 6 network, or the stream cut short (--retries resumes it); " +
			"Ctrl-C, SIGTERM or SIGHUP ends kcurl by that signal, as kubectl (a shell says 130, 143, 129)",
	},
}
