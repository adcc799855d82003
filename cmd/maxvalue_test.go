package cmd

import (
	"strings"
	"testing"
)

// --max-value sets the one bound on a value held in memory, as
// KCURL_MAX_VALUE does, and wins over it; curl's units (1M) and
// Kubernetes' (1Mi) both read as powers of 1024. The answer here is one
// value of 1.5 MiB that a jq filter of the whole answer takes.
func TestMaxValueFlag(t *testing.T) {
	body := `{"kind":"ConfigMap","data":{"a":"` + strings.Repeat("x", 3<<19) + `"}}`
	response := cliResponse{Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
	tooLarge := "kcurl: one value of the answer is larger than 1 MiB, kcurl's bound on what it holds in memory (--max-value SIZE or KCURL_MAX_VALUE=SIZE raises it)\n"
	for _, tc := range []cliCase{
		{Name: "--max-value 1M", Args: []string{"/api/v1/namespaces/ns1/configmaps/a", "-q", ".data.a | length", "--max-value", "1M"}, Stderr: tooLarge, Exit: 1},
		{Name: "--max-value 1Mi before the path", Args: []string{"--max-value", "1Mi", "/api/v1/namespaces/ns1/configmaps/a", "-q", ".data.a | length"}, Stderr: tooLarge, Exit: 1},
		{Name: "--max-value 2M", Args: []string{"/api/v1/namespaces/ns1/configmaps/a", "-q", ".data.a | length", "--max-value", "2M"}, Stdout: "1572864\n"},
		{Name: "--max-value wins over KCURL_MAX_VALUE", Args: []string{"/api/v1/namespaces/ns1/configmaps/a", "-q", ".data.a | length", "--max-value", "2048k"}, Env: map[string]string{"KCURL_MAX_VALUE": "1Mi"}, Stdout: "1572864\n"},
		{Name: "KCURL_MAX_VALUE alone", Args: []string{"/api/v1/namespaces/ns1/configmaps/a", "-q", ".data.a | length"}, Env: map[string]string{"KCURL_MAX_VALUE": "1G"}, Stdout: "1572864\n"},
	} {
		tc.Response = response
		t.Run(tc.Name, func(t *testing.T) { runCLICase(t, tc) })
	}
}
