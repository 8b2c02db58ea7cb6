package server_test

import "syscall"

// processCPU is the CPU time of the whole process in ns (user and system). The handler benchmarks
// report it per operation beside wall time: ns/op leaves out what the garbage collector spends on
// the other core, and the server pays for that too.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
