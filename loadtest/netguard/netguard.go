// Package netguard keeps load on this machine: it checks that every URL a run will hit resolves to
// loopback addresses only, and gives a dialer that refuses any other address at connect time, so a
// discovery document or a redirect that points elsewhere cannot turn a load test on a stranger.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"
)

// ErrNotLoopback is wrapped by every refusal.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckURLs resolves the host of every URL and fails unless all of their addresses are loopback.
// Empty strings are skipped (an endpoint the target does not have).
func CheckURLs(ctx context.Context, urls ...string) error {
	var errs []error
	seen := map[string]bool{}
	for _, raw := range urls {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			errs = append(errs, fmt.Errorf("%q is not a URL with a host", raw))
			continue
		}
		host := u.Hostname()
		if seen[host] {
			continue
		}
		seen[host] = true
		if err := checkHost(ctx, host); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", raw, err))
		}
	}
	return errors.Join(errs...)
}

func checkHost(ctx context.Context, host string) error {
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is %w", host, ErrNotLoopback)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, %w", host, a.IP, ErrNotLoopback)
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	return nil
}

// Dialer returns a dialer for HTTP transports. Unless allowAny is true it refuses, before
// connecting, any address that is not loopback: the check runs on the resolved address, so it
// holds whatever the URL or a redirect says.
func Dialer(allowAny bool) *net.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowAny {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("netguard: refusing to connect to %s: %w (pass --allow-non-loopback to load a remote target)", address, ErrNotLoopback)
			}
			return nil
		}
	}
	return d
}
