// Package serverproc runs the reference server in a child process (the harness binary's serve
// command on a free loopback port), so that a load test reads the server's CPU time apart from the
// load generator's: in one process the two could not be told apart.
package serverproc

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// AdminTokenEnv passes the admin token to the child: a flag would show in ps.
const AdminTokenEnv = "OAUTH_HARNESS_ADMIN_TOKEN"

// startTimeout covers RSA key generation at start-up on a busy machine.
const startTimeout = 60 * time.Second

// Proc is a running reference server.
type Proc struct {
	Issuer     string
	APIBaseURL string
	AdminToken string
	cmd        *exec.Cmd
	done       chan error
	closeOnce  sync.Once
	closeErr   error
}

// PID is the child's process id, for its CPU time.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Start runs exe with args (the serve command and its flags, which must listen on loopback and
// print the "issuer:", "api:" and "health:" lines serve prints) and waits until it is ready. stderr
// gets the child's log.
func Start(ctx context.Context, exe string, args []string, stderr io.Writer) (*Proc, error) {
	if stderr == nil {
		stderr = io.Discard
	}
	p := &Proc{AdminToken: rand.Text(), done: make(chan error, 1)}
	// Not CommandContext: the caller ends the child with Close, gracefully; ctx bounds the start.
	p.cmd = exec.Command(exe, args...)
	p.cmd.Env = append(os.Environ(), AdminTokenEnv+"="+p.AdminToken)
	p.cmd.Stderr = stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("serverproc: start %s: %w", exe, err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			key, val, _ := strings.Cut(sc.Text(), ":")
			val = strings.TrimSpace(val)
			switch key {
			case "issuer":
				p.Issuer = val
			case "api":
				p.APIBaseURL = val
			case "health":
				ready <- nil
				_, _ = io.Copy(io.Discard, out) // keep the pipe drained
				return
			}
		}
		ready <- errors.New("serverproc: the server exited before it was ready (see its log)")
	}()
	go func() { p.done <- p.cmd.Wait() }()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case err = <-ready:
	case <-t.C:
		err = fmt.Errorf("serverproc: the server was not ready within %v", startTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil && p.Issuer == "" {
		err = errors.New("serverproc: the server printed no issuer line")
	}
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

// Close stops the server: SIGTERM for a graceful shutdown, SIGKILL after 10 s. Later calls return
// the first one's result.
func (p *Proc) Close() error {
	p.closeOnce.Do(func() { p.closeErr = p.stop() })
	return p.closeErr
}

func (p *Proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case err := <-p.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) && !exit.Exited() {
			return nil // ended by our signal
		}
		return err
	case <-t.C:
		_ = p.cmd.Process.Kill()
		return errors.New("serverproc: the server did not stop within 10 s and was killed")
	}
}
