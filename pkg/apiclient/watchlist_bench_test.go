package apiclient

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/request"
)

// BenchmarkStreamList reads a streaming list of 5,000 ConfigMaps of about
// 1.6 KB, as the API server sends them.
func BenchmarkStreamList(b *testing.B) {
	var events strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&events, `{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-%06d","namespace":"bench","resourceVersion":"%d","labels":{"app":"bench"}},"data":{"payload":"%s"}}}`+"\n", i, 1000+i, strings.Repeat("x", 1500))
	}
	events.WriteString(endBookmark + "\n")
	_, c := newServer(b, answer{body: events.String()})
	b.SetBytes(int64(events.Len()))
	for b.Loop() {
		err := c.StreamList(context.Background(), request.Spec{Path: "/api/v1/configmaps"}, 500, func(body io.Reader) (ListMeta, error) {
			_, err := io.Copy(io.Discard, body)
			return ListMeta{}, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
