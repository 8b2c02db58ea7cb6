//go:build !linux

package osslcrypto

// threadCPU and processCPU are not measured here: the benchmarks then report wall time only.
func threadCPU() int64 { return 0 }

func processCPU() int64 { return 0 }
