// Package prefault maps the first chunk of the Go heap in a few system
// calls at start-up, instead of one page fault per page as kcurl's package
// inits and its request first touch them.
//
// Why: on a virtual machine such as this one (Firecracker; microVM Pods run
// on such machines under Kata Containers and Fargate), a page fault costs
// about 12 µs. An exec touched some 530 heap pages one by one: 6 ms of its
// 110. madvise(MADV_POPULATE_WRITE) maps and zeroes a page for 1.3 µs
// (docs/performance.md, "Page faults at start-up"). On a machine where a
// fault is cheap, it costs about what it saves.
//
// main imports it for its init alone. It imports nothing but syscall, so
// Go runs that init as soon as syscall's has run (Go runs next the lexically
// first package whose imports are all initialised), before the inits of
// client-go and the rest, which fill the heap. On a kernel older than 5.14
// (no MADV_POPULATE_WRITE) or in a sandbox without it, madvise fails and
// nothing is done; on other systems than Linux, the package is empty.
package prefault
