package osslcrypto

import (
	"syscall"
	"unsafe"
)

// threadCPU is the CPU time of the calling thread in ns: on a shared machine the benchmarks report it
// beside wall time, which counts the time other processes hold the cores.
func threadCPU() int64 {
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return ts.Nano()
}

// processCPU is the CPU time of the whole process in ns (user and system), for the parallel
// benchmarks: an operation that serializes on a lock spends more of it per call.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
