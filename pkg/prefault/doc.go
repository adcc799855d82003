// Package prefault maps the first chunk of the Go heap in a few system
// calls at start-up, instead of one page fault per page as kcurl's package
// inits and its request first touch them.
//
// Why: on some virtual machines (a PVM guest, whose page tables the
// hypervisor keeps in software), a page fault costs about 12 µs. An exec
// touched some 530 heap pages one by one there: 6 ms of its 110.
// madvise(MADV_POPULATE_WRITE) maps and zeroes a page for 1.3 µs
// (docs/performance.md, "Page faults at start-up"). Where paging is
// hardware-assisted, as on most nodes, a fault costs 1–1.5 µs, and
// populating 4 MiB cost an exec 0.7 ms more than the faults it saved. So
// the init first times a few faults, and populates only where they are
// dear (docs/performance.md, "… page faults timed at start-up").
//
// main imports it for its init alone. It imports nothing but syscall, so
// Go runs that init as soon as syscall's has run (Go runs next the lexically
// first package whose imports are all initialised), before the inits of
// client-go and the rest, which fill the heap. On a kernel older than 5.14
// (no MADV_POPULATE_WRITE) or in a sandbox without it, madvise fails and
// nothing is done; on other systems than Linux, the package is empty.
package prefault
