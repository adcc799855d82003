package output

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// configMapList is a Kubernetes-like list of 5,000 ConfigMaps (about 8 MB),
// shaped as the API server sends it.
var configMapList = sync.OnceValue(func() []byte {
	nginxConf, _ := json.Marshal("worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  server {\n    listen 8080;\n    server_name \"shop.example.com\";\n    location / { proxy_pass http://backend:8080; proxy_set_header Host $host; proxy_read_timeout 60s; }\n    location /static/ { root /srv/www; expires 7d; add_header Cache-Control \"public\"; }\n    location /healthz { return 200 'ok'; }\n  }\n}\n")
	var b strings.Builder
	b.WriteString(`{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"987654"},"items":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		name := fmt.Sprintf("app-config-%05d", i)
		lastApplied := fmt.Sprintf(`{"apiVersion":"v1","data":{"LOG_LEVEL":"info","app.properties":"server.port=8080\nserver.threads=%d\n"},"kind":"ConfigMap","metadata":{"annotations":{},"labels":{"app":"shop","tier":"backend"},"name":"%s","namespace":"team-%d"}}`, i%64, name, i%20)
		quoted, _ := json.Marshal(lastApplied + "\n")
		fmt.Fprintf(&b, `{"metadata":{"name":%q,"namespace":"team-%d","uid":"5f0c%04x-1b2c-4d5e-8f90-%012x","resourceVersion":"%d","creationTimestamp":"2024-05-%02dT10:%02d:%02dZ",`+
			`"labels":{"app":"shop","app.kubernetes.io/managed-by":"kcurl","tier":"backend","release":"r%d"},`+
			`"annotations":{"kubectl.kubernetes.io/last-applied-configuration":%s,"owner":"team-%d@example.com"},`+
			`"managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1","time":"2024-05-%02dT10:%02d:%02dZ","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:LOG_LEVEL":{},"f:app.properties":{}},"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app":{},"f:tier":{}}}}}]},`+
			`"data":{"LOG_LEVEL":"info","app.properties":"server.port=8080\nserver.threads=%d\nserver.name=\"%s\"\n","replicas":"%d","ratio":"1.50","nginx.conf":%s}}`,
			name, i%20, i, i*7919, 1000000+i, 1+i%28, i%60, (i*7)%60, i%10, quoted, i%20, 1+i%28, i%60, (i*11)%60, i%64, name, i%5, nginxConf)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
})

func BenchmarkFormatterPretty(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f := NewFormatter(io.Discard, 2, false)
		if _, err := f.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatterPrettyColour(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f := NewFormatter(io.Discard, 2, true)
		if _, err := f.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONIndent(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := json.Indent(&out, body, "", "  "); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoder(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewDecoder(bytes.NewReader(body)).Decode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONDecodeUseNumber(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkYAML(b *testing.B) {
	body := configMapList()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := NewPrinter(io.Discard, io.Discard, Options{Format: FormatYAML})
		if err := p.Print(context.Background(), bytes.NewReader(body), "application/json"); err != nil {
			b.Fatal(err)
		}
	}
}

// kubectl's formats over the 5,000 list, item by item.
func BenchmarkKubectlFormats(b *testing.B) {
	body := configMapList()
	for _, format := range []string{"jsonpath={.items[*].metadata.name}", "go-template={{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}", "custom-columns=NAME:.metadata.name", "kyaml"} {
		b.Run(strings.SplitN(format, "=", 2)[0], func(b *testing.B) {
			k, err := ParseKubectlFormat(format, KubectlOptions{AllowMissingKeys: true})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				p := NewPrinter(io.Discard, io.Discard, Options{Kubectl: k})
				if err := p.Print(context.Background(), bytes.NewReader(body), "application/json"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
