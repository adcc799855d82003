// Command machine prints, in one line, what this machine charges for the
// three things a short-lived client's start is made of: a page fault, a
// system call, and a Go process's start and exit. The benchmarks print it
// before they measure, so that a run says which kind of machine it ran on:
// where paging is hardware-assisted a fault costs 1–1.5 µs, on a PVM guest
// 10–12 µs and every process start is several times dearer, and the exec
// target moves with it (docs/performance.md, "Where each target stands").
//
//	go run ./scripts/bench/machine
package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

const (
	faultPages = 2048    // fresh pages written, one fault each
	syscalls   = 200_000 // getppid calls
	starts     = 40      // starts of this binary that exit at once
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-exit" {
		return // the process whose start is timed
	}
	if len(os.Args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: machine (no arguments)")
		os.Exit(2)
	}
	fault, err := faultCost()
	if err != nil {
		fmt.Fprintln(os.Stderr, "machine:", err)
		os.Exit(1)
	}
	start, err := startCost()
	if err != nil {
		fmt.Fprintln(os.Stderr, "machine:", err)
		os.Exit(1)
	}
	fmt.Printf("machine: a page fault %.1f µs, a system call %.2f µs, a Go process's start and exit %.1f ms (median of %d)\n",
		micros(fault), micros(syscallCost()), float64(start)/float64(time.Millisecond), starts)
}

// faultCost is the mean cost of a first write to a fresh anonymous page:
// the fault, the zeroed page, and the page tables the first ones need.
func faultCost() (time.Duration, error) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, faultPages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0, fmt.Errorf("mmap: %w", err)
	}
	defer syscall.Munmap(mem) //nolint:errcheck
	began := time.Now()
	for i := 0; i < len(mem); i += page {
		mem[i] = 1
	}
	return time.Since(began) / faultPages, nil
}

// syscallCost is the mean cost of the simplest system call, made raw so
// that the scheduler's bookkeeping is not counted.
func syscallCost() time.Duration {
	began := time.Now()
	for range syscalls {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	return time.Since(began) / syscalls
}

// startCost is the median wall of starting this binary with -exit and
// waiting for it: fork, exec, Go's runtime set-up, exit.
func startCost() (time.Duration, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	walls := make([]time.Duration, 0, starts)
	for range starts {
		began := time.Now()
		if err := exec.Command(self, "-exit").Run(); err != nil {
			return 0, fmt.Errorf("starting %s: %w", self, err)
		}
		walls = append(walls, time.Since(began))
	}
	slices.Sort(walls)
	return walls[len(walls)/2], nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
