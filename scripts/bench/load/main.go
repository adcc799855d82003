// Command load is the benchmarks' client: C concurrent clients sending GET
// requests to one URL on loopback, bounded in time and in count, reporting
// requests per second and latency percentiles as one JSON line.
//
//	go run ./scripts/bench/load -url http://127.0.0.1:8001/api -c 16 -d 10s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("url", "", "the URL to GET (loopback only)")
	clients := flag.Int("c", 16, "concurrent clients")
	duration := flag.Duration("d", 10*time.Second, "how long to send")
	limit := flag.Int64("n", 1_000_000, "at most this many requests")
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil || !loopback(u.Hostname()) {
		fmt.Fprintln(os.Stderr, "load: -url must be http(s) on 127.0.0.1, ::1 or localhost")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: *clients,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}

	var (
		sent, failed atomic.Int64
		mu           sync.Mutex
		latencies    []time.Duration
		wg           sync.WaitGroup
	)
	deadline := time.Now().Add(*duration)
	start := time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && sent.Add(1) <= *limit {
				t0 := time.Now()
				resp, err := client.Get(*target)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("HTTP %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"ok":     len(latencies),
		"errors": failed.Load(),
		"rps":    float64(len(latencies)) / elapsed.Seconds(),
		"p50_ms": pct(0.50),
		"p99_ms": pct(0.99),
	})
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback() && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}
