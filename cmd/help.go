package cmd

// The help a newcomer needs first (real examples) and a script author needs
// last (where the server comes from, exit codes). The same text is the man
// page's and docs/reference.md's description.
const helpExamples = `EXAMPLES:
   kcurl /api                                          the API's versions, with the Pod's own credentials
   kcurl pods -q '.items[].metadata.name' -r           the names of the Pods in this Pod's namespace
   kcurl deploy/web -X PATCH -d 'spec: {replicas: 3}'  a merge patch, written in YAML
   kcurl cm -w -q '"\(.type) \(.object.metadata.name)"' -r
                                                       watch ConfigMaps change, one line per event
   kcurl whoami                                        who the server says this Pod is, and what its token claims
   kcurl wait secret/db --for create --timeout 2m      wait for the Secret to exist (a watch; exit 1 on timeout)
   kcurl explain deploy.spec.strategy                  the fields of a type, from the server's OpenAPI`

const helpFooter = `FINDING THE SERVER AND CREDENTIALS (kcurl config shows what was found):
   1. an explicit kubeconfig: --kubeconfig, --context, --cluster, --user or $KUBECONFIG
   2. the Pod: flags, $KUBERNETES_SERVICE_HOST/_PORT_HTTPS, and the service account in
      /var/run/secrets/kubernetes.io/serviceaccount (or another container's, through /proc)
   3. ~/.kube/config
   --server, --token, --token-file, --cacert, -k and -n override single values of the one chosen.

EXIT CODES:
   0 success   1 -e: last jq result false/null or none (can-i: no)   2 usage
   3 no cluster or credentials   4 HTTP 4xx   5 HTTP 5xx   6 network (DNS, connect, TLS, timeout)

Documentation: docs/usage.md, docs/recipes.md and docs/exit-codes.md in the source repository,
and the kcurl(1) man page (docs/kcurl.1).`

// helpTemplate is urfave/cli's application help, rearranged.
const helpTemplate = `{{template "helpNameTemplate" .}}

` + helpExamples + `

USAGE:
   {{wrap .UsageText 3}}
   PATH is an API path such as /api/v1/namespaces/{namespace}/pods; RESOURCE is
   kubectl's shorthand: pods, po/web, deploy/web/scale, deployments.apps.
   Flags may follow the PATH, as with curl.{{if .VisibleCommands}}

COMMANDS:{{template "visibleCommandCategoryTemplate" .}}{{end}}{{if .VisibleFlagCategories}}

OPTIONS:{{template "visibleFlagCategoryTemplate" .}}{{end}}

` + helpFooter + `
`
