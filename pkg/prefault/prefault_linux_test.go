package prefault

import (
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestInitDecided: this test binary ran the package's init, which measured
// a page fault here and populated the heap only if that fault was dear.
func TestInitDecided(t *testing.T) {
	if measuredFault <= 0 || measuredFault > int64(time.Millisecond) {
		t.Fatalf("a page fault measured %d ns", measuredFault)
	}
	t.Logf("a page fault costs %d ns here; populated: %v", measuredFault, populated)
	if populated && !populateWanted(measuredFault) {
		t.Errorf("populated the heap where a fault costs %d ns", measuredFault)
	}
	if !populated && populateWanted(measuredFault) && populateWorks(t) {
		t.Errorf("did not populate the heap where a fault costs %d ns", measuredFault)
	}
}

func TestPopulateWanted(t *testing.T) {
	for _, tc := range []struct {
		faultNanos int64
		want       bool
	}{
		{0, true},      // not measured: as before the probe
		{1_100, false}, // hardware-assisted paging
		{dearFault, false},
		{12_500, true}, // a PVM guest
	} {
		if got := populateWanted(tc.faultNanos); got != tc.want {
			t.Errorf("populateWanted(%d ns) = %v, want %v", tc.faultNanos, got, tc.want)
		}
	}
}

// TestPopulateHeap: the heap is mapped from where it begins to the end of
// its chunk.
func TestPopulateHeap(t *testing.T) {
	if !populateWorks(t) {
		t.Skip("no MADV_POPULATE_WRITE on this kernel")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if !populateHeap() {
		t.Fatal("populateHeap failed")
	}
	page := uintptr(syscall.Getpagesize())
	here := uintptr(unsafe.Pointer(firstObject)) &^ (page - 1)
	start := heapStart(here, page)
	end := (start + heapChunk) &^ (heapChunk - 1) // populated at least to its chunk's end
	resident := make([]byte, (end-start)/page)
	if !mincore(start, end-start, resident) {
		t.Fatalf("mincore %#x-%#x failed", start, end)
	}
	runtime.ReadMemStats(&after)
	if after.NumGC != before.NumGC {
		t.Skip("a GC ran meanwhile: the scavenger may have released free pages")
	}
	for i, r := range resident {
		if r&1 == 0 {
			t.Fatalf("heap page %#x (page %d after the heap's start %#x) not resident", start+uintptr(i)*page, i, start)
		}
	}
}

// chunks is anonymous memory with two chunk-aligned chunks in it, from
// first.
type chunks struct {
	mem   []byte
	first uintptr
}

func twoChunks(t *testing.T) chunks {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, 3*heapChunk, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	base := uintptr(unsafe.Pointer(&mem[0]))
	return chunks{mem, (base + heapChunk - 1) &^ (heapChunk - 1)}
}

// touch writes to the page at addr, which makes it resident.
func (c chunks) touch(addr uintptr) { c.mem[addr-uintptr(unsafe.Pointer(&c.mem[0]))] = 1 }

func TestHeapStart(t *testing.T) {
	page := int64(syscall.Getpagesize())
	// Offsets in pages from the start of here's chunk; the chunk before it
	// is mapped unless unmapBefore.
	for _, tc := range []struct {
		name        string
		touched     []int64
		here, want  int64
		unmapBefore bool
	}{
		{"the lowest page in use in here's chunk", []int64{25, 60}, 100, 25, false},
		{"in the chunk before", []int64{-3}, 10, -3, false},
		{"nothing below here", nil, 10, 10, false},
		{"no chunk mapped before", []int64{7}, 8, 7, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := twoChunks(t)
			chunk := c.first + heapChunk
			at := func(pages int64) uintptr { return uintptr(int64(chunk) + pages*page) }
			if tc.unmapBefore {
				if _, _, errno := syscall.Syscall(syscall.SYS_MUNMAP, c.first, heapChunk, 0); errno != 0 {
					t.Fatal(errno)
				}
			}
			for _, p := range append(tc.touched, tc.here) {
				c.touch(at(p))
			}
			if got := heapStart(at(tc.here), uintptr(page)); got != at(tc.want) {
				t.Errorf("heapStart = %#x, want %#x (chunk %#x)", got, at(tc.want), chunk)
			}
		})
	}
}

// populateWorks says whether this kernel has MADV_POPULATE_WRITE.
func populateWorks(t *testing.T) bool {
	mem, err := syscall.Mmap(-1, 0, 1<<16, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	return madvise(uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), madvPopulateWrite)
}
