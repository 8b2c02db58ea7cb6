// Package ceiling sets a load test's figures against the physical limit: the server process's CPU
// time per successful request, read from /proc, next to the cost of the signatures each request
// needs, calibrated on this machine with the reference server's own signing code. A path whose CPU
// per request is close to its crypto cost is bound by cryptography, not by the server's code.
package ceiling

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
)

// clockTick is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on every Linux ABI.
const clockTick = 10 * time.Millisecond

// ProcessCPU returns the user plus system CPU time the process pid has used, all threads included.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("ceiling: the CPU time of process %d: %w", pid, err)
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime (fields 14 and 15) of a /proc/PID/stat line. The command name,
// field 2, is in parentheses and may hold spaces and parentheses: fields are counted after its last ')'.
func parseStat(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("ceiling: /proc stat line without a command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, errors.New("ceiling: /proc stat line too short")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("ceiling: /proc stat line with non-numeric CPU times")
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// Cost is the measured time of one signature operation with one goroutine.
type Cost struct {
	Alg    string        `json:"alg"`
	Sign   time.Duration `json:"sign_ns"`
	Verify time.Duration `json:"verify_ns"`
}

// sampleClaims is an access token's size and shape, so the hashing part of the cost is realistic.
var sampleClaims = []byte(`{"iss":"http://127.0.0.1:9000","sub":"acme-sync","aud":"https://api.contacts.example",` +
	`"iat":1767225600,"exp":1767229200,"jti":"3q2-7wEAAAAAAAAAAAAAAA","client_id":"acme-sync","azp":"acme-sync",` +
	`"scope":"read:contacts","gty":"client-credentials"}`)

// Calibrate measures signing with a fresh key of alg through the keyring's Sign (the reference
// server's signing path, whatever backend it uses) and verifying with go-jose, each for about d.
func Calibrate(alg string, d time.Duration) (Cost, error) {
	sign, pub, err := signer(jose.SignatureAlgorithm(alg))
	if err != nil {
		return Cost{}, fmt.Errorf("ceiling: %w", err)
	}
	var tok string
	signCost := timeIt(d, func() error {
		tok, err = sign()
		return err
	})
	if err != nil {
		return Cost{}, fmt.Errorf("ceiling: sign with %s: %w", alg, err)
	}
	verify := timeIt(d, func() error {
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err == nil {
			_, err = jws.Verify(pub)
		}
		return err
	})
	if err != nil {
		return Cost{}, fmt.Errorf("ceiling: verify with %s: %w", alg, err)
	}
	return Cost{Alg: alg, Sign: signCost, Verify: verify}, nil
}

// signer signs sampleClaims as the server would: asymmetric algorithms through a keyring, HS256
// (an API's shared secret) with go-jose, as the token minter does. It returns the verification key.
func signer(alg jose.SignatureAlgorithm) (func() (string, error), any, error) {
	if alg == jose.HS256 {
		secret := []byte("0123456789abcdef0123456789abcdef")
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: secret}, (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			return nil, nil, err
		}
		return func() (string, error) { return keys.SignCompact(s, sampleClaims) }, secret, nil
	}
	k, err := keys.NewKey(alg)
	if err != nil {
		return nil, nil, err
	}
	kr, err := keys.FromKeys(k)
	if err != nil {
		return nil, nil, err
	}
	return func() (string, error) { return kr.Sign(alg, "at+jwt", sampleClaims) }, k.Private.Public(), nil
}

// timeIt runs f repeatedly for about d of CPU time (at least 5 times) and returns the CPU time per
// call, of this thread only: other processes on a busy machine then cost wall time but do not
// inflate the figure. It stops at f's first error.
func timeIt(d time.Duration, f func() error) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, wall := threadCPU(), time.Now()
	n := 0
	for n < 5 || (threadCPU()-start < d && time.Since(wall) < 10*d) {
		if f() != nil {
			return 0
		}
		n++
	}
	return (threadCPU() - start) / time.Duration(n)
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

// threadCPU is the calling thread's user and system CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Ceiling is a run's figures against the crypto limit.
type Ceiling struct {
	Ops   []scenario.Op `json:"crypto_per_request"`
	Costs []Cost        `json:"calibration"`
	// Crypto is the signature CPU one successful request needs (zero for a path without any).
	Crypto time.Duration `json:"crypto_cpu_per_request_ns"`
	Cores  int           `json:"cores"`
	// Rate is the crypto ceiling: every core doing nothing but the signatures.
	Rate float64 `json:"crypto_ceiling_per_s"`
	// Measured by the caller; ServerCPU zero means not measured (a remote or in-process server).
	ServerCPU           time.Duration `json:"server_cpu_ns"`
	ServerCPUPerRequest time.Duration `json:"server_cpu_per_request_ns"`
	Throughput          float64       `json:"throughput_per_s"`
	// The ratios, for the JSON summary (see CPURatio and RateRatio).
	CPUToCrypto         float64 `json:"server_cpu_to_crypto"`
	ThroughputToCeiling float64 `json:"throughput_to_ceiling"`
}

// New calibrates the algorithms of ops (for about d each) and computes the crypto ceiling.
func New(ops []scenario.Op, d time.Duration) (*Ceiling, error) {
	c := &Ceiling{Ops: ops, Cores: runtime.NumCPU()}
	costs := map[string]Cost{}
	for _, op := range ops {
		if _, ok := costs[op.Alg]; ok {
			continue
		}
		cost, err := Calibrate(op.Alg, d)
		if err != nil {
			return nil, err
		}
		costs[op.Alg] = cost
		c.Costs = append(c.Costs, cost)
	}
	for _, op := range ops {
		per := costs[op.Alg].Sign
		if op.Verify {
			per = costs[op.Alg].Verify
		}
		c.Crypto += time.Duration(op.Count * float64(per))
	}
	if c.Crypto > 0 {
		c.Rate = float64(c.Cores) / c.Crypto.Seconds()
	}
	return c, nil
}

// Measured records the server's CPU over an attack and its successful requests' throughput.
func (c *Ceiling) Measured(serverCPU time.Duration, successes uint64, throughput float64) {
	c.ServerCPU, c.Throughput = serverCPU, throughput
	if successes > 0 {
		c.ServerCPUPerRequest = serverCPU / time.Duration(successes)
	}
	c.CPUToCrypto, c.ThroughputToCeiling = c.CPURatio(), c.RateRatio()
}

// CPURatio is the server's CPU per request over the crypto it needs (1 would be pure crypto).
func (c *Ceiling) CPURatio() float64 {
	if c.Crypto <= 0 || c.ServerCPUPerRequest <= 0 {
		return 0
	}
	return float64(c.ServerCPUPerRequest) / float64(c.Crypto)
}

// RateRatio is the throughput as a share of the crypto ceiling.
func (c *Ceiling) RateRatio() float64 {
	if c.Rate <= 0 {
		return 0
	}
	return c.Throughput / c.Rate
}

// String says it in two lines.
func (c *Ceiling) String() string {
	var b strings.Builder
	if len(c.Ops) == 0 {
		b.WriteString("crypto        none on this path: no crypto ceiling\n")
	} else {
		var ops, costs []string
		for _, op := range c.Ops {
			ops = append(ops, op.String())
		}
		for _, k := range c.Costs {
			costs = append(costs, fmt.Sprintf("%s sign %s (%.0f/s), verify %s (%.0f/s)", k.Alg, us(k.Sign), 1/k.Sign.Seconds(), us(k.Verify), 1/k.Verify.Seconds()))
		}
		fmt.Fprintf(&b, "crypto        %s per request = %s of CPU; calibrated here on one core: %s\n",
			strings.Join(ops, " + "), us(c.Crypto), strings.Join(costs, "; "))
		fmt.Fprintf(&b, "ceiling       %.0f/s on %d cores doing nothing but crypto; throughput is %.1f%% of it\n",
			c.Rate, c.Cores, 100*c.RateRatio())
	}
	if c.ServerCPU > 0 {
		fmt.Fprintf(&b, "server CPU    %s in all, %s per successful request", c.ServerCPU.Round(10*time.Millisecond), us(c.ServerCPUPerRequest))
		if r := c.CPURatio(); r > 0 {
			fmt.Fprintf(&b, " = %.2f× the crypto it needs", r)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("server CPU    not measured (only for the embedded server run as a child process)\n")
	}
	return b.String()
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}
