package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The attribute is byte for byte what setcap writes for "=p".
func TestVfsCapData(t *testing.T) {
	caps, err := parse("cap_sys_ptrace,cap_dac_override")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 2, 0x02, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := vfsCapData(caps); !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
	if _, err := parse("cap_sys_admin"); err == nil {
		t.Error("an unknown capability was accepted")
	}
}

// Set on a real file, getcap reads the permitted set and no effective bit.
func TestGetcapReadsIt(t *testing.T) {
	getcap, err := exec.LookPath("getcap")
	if os.Geteuid() != 0 || err != nil {
		t.Skip("needs root (CAP_SETFCAP) and getcap (libcap2-bin)")
	}
	file := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(file, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	caps, _ := parse("cap_sys_ptrace,cap_dac_override")
	if err := unix.Setxattr(file, "security.capability", vfsCapData(caps), 0); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(getcap, file).CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != file+" cap_dac_override,cap_sys_ptrace=p" {
		t.Errorf("getcap: %q, %v", got, err)
	}
}
