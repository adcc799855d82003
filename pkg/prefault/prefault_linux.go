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
)

func init() { populateHeap() }

var firstObject *[16]byte

// populateHeap maps the heap's first pages, from where it begins up to a
// chunk further (or where the runtime's mapping ends, if sooner), before
// the package inits and the request fill them. Code is left to fault in:
// mapping all of it saved no measurable time and put 1–2 MiB more in every
// command's RSS, port-forward's included (docs/performance.md).
func populateHeap() {
	firstObject = new([16]byte) // escapes: it is on the heap
	page := uintptr(syscall.Getpagesize())
	here := uintptr(unsafe.Pointer(firstObject)) &^ (page - 1)
	start := heapStart(here, page)
	for p := start; p < start+heapChunk; p += populateStep {
		if !madvise(p, populateStep, madvPopulateWrite) {
			return
		}
	}
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
