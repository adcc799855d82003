package prefault

import (
	"syscall"
	"unsafe"
)

const (
	madvPopulateWrite = 23 // Linux 5.14

	// heapChunk is how much heap Go's runtime maps at a time (its
	// pallocChunkBytes). An exec's heap stays within 3 MiB.
	heapChunk = 4 << 20
	// populateStep: the chunk is populated in steps, so that the part of it
	// up to where the runtime's mapping ends is (madvise fails whole when
	// its range runs past a mapping).
	populateStep = 256 << 10

	// faultProbePages is how many fresh pages faultCost writes to: some
	// 10 µs where a fault is cheap, 100 where it is dear, a small part of a
	// start-up either way.
	faultProbePages = 8
	// dearFault is the cost of a page fault above which populating the
	// heap's first chunk pays: populating maps its 1,024 pages for 0.6–1.5
	// µs each, to save the 430-odd faults an exec makes on them, so it pays
	// from 1.5–3.5 µs a fault. Faults cost 1–1.5 µs on a machine with
	// hardware-assisted paging (most nodes) and 12–13 µs on a PVM guest
	// (docs/performance.md, "Page faults at start-up" and "… page faults
	// timed at start-up").
	dearFault = 4000 // ns
)

// The outcome of init, for the tests: what a page fault cost and whether
// the heap was populated.
var (
	measuredFault int64 // ns; 0 if it could not be measured
	populated     bool
)

func init() {
	measuredFault = faultCost()
	if populateWanted(measuredFault) {
		populated = populateHeap()
	}
}

// populateWanted: faults are dear enough for populating to pay, or could
// not be measured (where the probe fails, populating is what kcurl did
// before it had one).
func populateWanted(faultNanos int64) bool {
	return faultNanos == 0 || faultNanos > dearFault
}

// faultCost is what one page fault costs here, in ns: the quickest of
// faultProbePages first writes to fresh anonymous pages, each timed on its
// own; 0 if it cannot be measured. The quickest, because what else the
// machine does can only make a fault look dearer (a preemption, the page
// table the first write needs), and on a machine where faults are dear
// every one of them is (the trap is the cost, not the page).
func faultCost() int64 {
	page := syscall.Getpagesize()
	probe, err := syscall.Mmap(-1, 0, faultProbePages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0
	}
	defer syscall.Munmap(probe) //nolint:errcheck
	quickest := int64(0)
	for i := 0; i < len(probe); i += page {
		start, ok := monotonicNanos()
		probe[i] = 1
		end, ok2 := monotonicNanos()
		if !ok || !ok2 {
			return 0
		}
		if cost := end - start; cost > 0 && (quickest == 0 || cost < quickest) {
			quickest = cost
		}
	}
	return quickest
}

// monotonicNanos reads CLOCK_MONOTONIC with a system call: the package
// imports nothing but syscall, whose clocks are the wall clock's.
func monotonicNanos() (int64, bool) {
	var ts syscall.Timespec
	const clockMonotonic = 1
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano(), errno == 0
}

var firstObject *[16]byte

// populateHeap maps the heap's first pages, from where it begins up to a
// chunk further (or where the runtime's mapping ends, if sooner), before
// the package inits and the request fill them. Code is left to fault in:
// mapping all of it saved no measurable time and put 1–2 MiB more in every
// command's RSS, port-forward's included (docs/performance.md).
func populateHeap() bool {
	firstObject = new([16]byte) // escapes: it is on the heap
	page := uintptr(syscall.Getpagesize())
	here := uintptr(unsafe.Pointer(firstObject)) &^ (page - 1)
	start := heapStart(here, page)
	for p := start; p < start+heapChunk; p += populateStep {
		if !madvise(p, populateStep, madvPopulateWrite) {
			return p > start
		}
	}
	return true
}

// heapStart is the lowest page in use (resident) at or below here, in
// here's chunk or the one before it: where the heap begins. The runtime
// starts the heap at a random page of its first chunk, and allocates from
// the lowest free address up.
func heapStart(here, page uintptr) uintptr {
	var resident [2 * heapChunk / 4096]byte
	lo := here&^(heapChunk-1) - heapChunk
	if !mincore(lo, here+page-lo, resident[:]) {
		// The chunk before is not mapped: the heap begins in here's.
		lo = here &^ (heapChunk - 1)
		if !mincore(lo, here+page-lo, resident[:]) {
			return here
		}
	}
	for i := uintptr(0); lo+i*page <= here; i++ {
		if resident[i]&1 != 0 {
			return lo + i*page
		}
	}
	return here
}

func madvise(addr, length uintptr, advice int) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, length, uintptr(advice))
	return errno == 0
}

func mincore(addr, length uintptr, vec []byte) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, addr, length, uintptr(unsafe.Pointer(&vec[0])))
	return errno == 0
}
