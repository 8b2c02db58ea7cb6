//go:build !linux

package server_test

// processCPU is not measured here: the benchmarks then report wall time only.
func processCPU() int64 { return 0 }
