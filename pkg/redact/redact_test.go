package redact

import "testing"

func TestHeader(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"Authorization", "Bearer abc.def", "Bearer <redacted>"},
		{"authorization", "abc", "<redacted>"},
		{"Proxy-Authorization", "Basic dXNlcjpwYXNz", "Basic <redacted>"},
		{"Cookie", "session=abc", "<redacted>"},
		{"set-cookie", "session=abc; HttpOnly", "<redacted>"},
		{"X-Auth-Token", "abc", "<redacted>"},
		{"Accept", "application/json", "application/json"},
		{"Impersonate-User", "jane", "jane"},
	} {
		if got := Header(tc.name, tc.value); got != tc.want {
			t.Errorf("Header(%q, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
		if Secret(tc.name) != (tc.want != tc.value) {
			t.Errorf("Secret(%q) = %v", tc.name, Secret(tc.name))
		}
	}
}
