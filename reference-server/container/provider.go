package container

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"net/netip"
)

// PortPlaceholder in a provider's environment (and in a target profile's issuer) stands for the
// host port the container is published on, known only once a free one is picked: a provider must
// be told the address its users reach it at (Keycloak's KC_HOSTNAME, Dex's issuer, ...).
const PortPlaceholder = "${PORT}"

// Provider is any OAuth/OIDC server image to run as a target.
type Provider struct {
	Image    string
	Port     int               // the container port to publish (on 127.0.0.1 only)
	Env      map[string]string // values may use ${PORT}
	WaitPath string            // an HTTP path that answers 200 once the provider is ready
	Startup  time.Duration     // how long it may take; 2 minutes when zero
}

// Running is a started provider.
type Running struct {
	testcontainers.Container
	HostPort int
}

// Expand replaces ${PORT} in s with the host port.
func (r *Running) Expand(s string) string {
	return strings.ReplaceAll(s, PortPlaceholder, strconv.Itoa(r.HostPort))
}

// RunProvider starts p on a free 127.0.0.1 port and waits for its WaitPath. The caller terminates
// the container (also when an error is returned with a non-nil Running).
func RunProvider(ctx context.Context, p Provider) (*Running, error) {
	switch {
	case p.Image == "":
		return nil, fmt.Errorf("container: the provider needs an image")
	case p.Port <= 0 || p.Port > 65535:
		return nil, fmt.Errorf("container: the provider's port %d is not a port", p.Port)
	case !strings.HasPrefix(p.WaitPath, "/"):
		return nil, fmt.Errorf("container: the provider's wait_path %q must start with /", p.WaitPath)
	}
	if p.Startup <= 0 {
		p.Startup = 2 * time.Minute
	}
	if _, err := DetectEngine(ctx); err != nil {
		return nil, err
	}
	hostPort, err := freePort()
	if err != nil {
		return nil, err
	}
	exposed := strconv.Itoa(p.Port) + "/tcp"
	env := map[string]string{}
	for k, v := range p.Env {
		env[k] = strings.ReplaceAll(v, PortPlaceholder, strconv.Itoa(hostPort))
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: p.Image, ExposedPorts: []string{exposed}, Env: env,
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = network.PortMap{network.MustParsePort(exposed): {
					{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(hostPort)}}}
			},
			WaitingFor: wait.ForHTTP(p.WaitPath).WithPort(exposed).WithForcedIPv4LocalHost().
				WithStartupTimeout(p.Startup).WithPollInterval(200 * time.Millisecond),
		},
		Started: true,
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	var r *Running
	if ctr != nil {
		r = &Running{Container: ctr, HostPort: hostPort}
	}
	if err != nil {
		if ctr != nil {
			err = fmt.Errorf("%w\n%s", err, serverLog(ctx, ctr))
		}
		return r, fmt.Errorf("container: run %s: %w", p.Image, err)
	}
	return r, nil
}
