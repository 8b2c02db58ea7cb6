// Package container runs the reference authorization server's image (reference-server/Dockerfile)
// with testcontainers-go, after the shape of testcontainers-go's own modules:
//
//	srv, err := container.Run(ctx, container.DefaultImage, container.WithAdminToken("t"))
//	defer testcontainers.TerminateContainer(srv) // or testcontainers.CleanupContainer(t, srv)
//	srv.IssuerURL() // http://127.0.0.1:PORT, the issuer in discovery and in every token
//
// It also finds a container engine (DetectEngine: Docker, or Podman's Docker-compatible service)
// and builds the image from the repository (BuildImage), for the tests and for `make image`.
package container

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Port is the port the server listens on inside the container.
const Port = "9000/tcp"

// Environment the image reads (see cmd/oauth-harness/serve.go).
const (
	envIssuer     = "OAUTH_HARNESS_ISSUER"
	envFixtures   = "OAUTH_HARNESS_FIXTURES"
	envAdminToken = "OAUTH_HARNESS_ADMIN_TOKEN"
)

// fixturesPath is where WithFixtures puts the tenant file in the container.
const fixturesPath = "/fixtures/tenant.yaml"

// ErrPortBusy means that the host port asked for with WithHostPort is taken.
var ErrPortBusy = errors.New("host port busy")

// Container is a running reference server.
type Container struct {
	testcontainers.Container
	issuer     string
	adminToken string
	hostPort   int
}

// IssuerURL is the server's issuer, http://127.0.0.1:PORT: the URL discovery names and tokens carry.
func (c *Container) IssuerURL() string { return c.issuer }

// APIBaseURL is the contacts API's base URL (IssuerURL + /api).
func (c *Container) APIBaseURL() string { return c.issuer + server.APIPath }

// AdminToken is the admin API's bearer token: WithAdminToken's, else a random one.
func (c *Container) AdminToken() string { return c.adminToken }

// HostPort is the port on 127.0.0.1 that reaches the server.
func (c *Container) HostPort() int { return c.hostPort }

// options are this module's own settings; the rest are plain testcontainers customizers.
type options struct {
	hostPort   int
	adminToken string
	startup    time.Duration
}

// Option is a setting of this module. It is also a testcontainers.ContainerCustomizer, so it goes
// in Run's list with any other (testcontainers.WithEnv, WithLogConsumers, ...).
type Option func(*options) error

// Customize does nothing: Run reads Options itself before it builds the request.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithHostPort publishes the server on 127.0.0.1:port instead of a free port Run picks.
func WithHostPort(port int) Option {
	return func(o *options) error {
		if port < 1 || port > 65535 {
			return fmt.Errorf("container: host port %d is not in 1-65535", port)
		}
		o.hostPort = port
		return nil
	}
}

// WithAdminToken turns the admin API on with this bearer token (default: a random token).
func WithAdminToken(token string) Option {
	return func(o *options) error {
		if token == "" {
			return errors.New("container: the admin token is empty")
		}
		o.adminToken = token
		return nil
	}
}

// WithStartupTimeout bounds the wait for the discovery document (default 60 s).
func WithStartupTimeout(d time.Duration) Option {
	return func(o *options) error { o.startup = d; return nil }
}

// WithFixtures serves the tenant in the YAML file at hostPath instead of the built-in one. The
// file is copied into the container before it starts rather than bind-mounted: that works on a
// remote engine too and needs no SELinux relabelling under Podman. A bad tenant makes the server
// exit at start, and Run's error carries its log.
func WithFixtures(hostPath string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if _, err := os.Stat(hostPath); err != nil {
			return fmt.Errorf("container: fixtures: %w", err)
		}
		req.Files = append(req.Files, testcontainers.ContainerFile{HostFilePath: hostPath, ContainerFilePath: fixturesPath, FileMode: 0o444})
		return testcontainers.WithEnv(map[string]string{envFixtures: fixturesPath})(req)
	}
}

// WithFixturesYAML is WithFixtures for a tenant held in memory.
func WithFixturesYAML(tenantYAML []byte) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.Files = append(req.Files, testcontainers.ContainerFile{Reader: strings.NewReader(string(tenantYAML)),
			ContainerFilePath: fixturesPath, FileMode: 0o444})
		return testcontainers.WithEnv(map[string]string{envFixtures: fixturesPath})(req)
	}
}

// WithEnv adds environment variables to the server's (testcontainers.WithEnv). The issuer
// variable is Run's: it must match the published port.
func WithEnv(env map[string]string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithEnv(env)
}

// Run starts the reference server from img (DefaultImage after `make image`) and waits until its
// discovery document answers with the expected issuer. On error the returned Container, when not
// nil, must still be terminated (testcontainers.CleanupContainer does both).
//
// The issuer problem: the server puts its issuer in discovery and in every token, and the contacts
// API checks it, so it must be the URL the host uses, http://127.0.0.1:HOSTPORT. An engine-chosen
// port is known only once the container exists, too late for the server's configuration. So Run
// picks a free port on 127.0.0.1 itself, publishes the container's port there (a fixed binding,
// loopback only) and passes the matching issuer in OAUTH_HARNESS_ISSUER. Another process may take the
// port between the pick and the binding: Run then tries again with another port, up to three times.
// (Rewriting the issuer after start would need a reload the server does not have; host networking
// would not work on Docker Desktop.)
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	o := options{startup: 60 * time.Second}
	for _, opt := range opts {
		if mo, ok := opt.(Option); ok {
			if err := mo(&o); err != nil {
				return nil, err
			}
		}
	}
	if o.adminToken == "" {
		o.adminToken = rand.Text()
	}
	if strings.HasPrefix(img, "localhost/") {
		// Such an image can only have been built here: say so rather than let a pull fail obscurely.
		if err := checkImage(ctx, img); err != nil {
			return nil, err
		}
	}
	const attempts = 3
	for attempt := 1; ; attempt++ {
		port := o.hostPort
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, err
			}
		} else if err := portFree(port); err != nil {
			return nil, err
		}
		c, err := run(ctx, img, port, o, opts)
		if err == nil || !portTaken(err) || o.hostPort != 0 || attempt == attempts {
			if err != nil && portTaken(err) {
				err = fmt.Errorf("%w: 127.0.0.1:%d: %w", ErrPortBusy, port, err)
			}
			return c, err
		}
		if c != nil { // created but not started: remove it before the next try
			_ = testcontainers.TerminateContainer(c)
		}
	}
}

func run(ctx context.Context, img string, port int, o options, opts []testcontainers.ContainerCustomizer) (*Container, error) {
	issuer := "http://127.0.0.1:" + strconv.Itoa(port)
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        img,
			ExposedPorts: []string{Port},
			// Explicit, so that testcontainers.WithCmdArgs("--log-level", "debug") adds flags to serve.
			Cmd: []string{"serve"},
			Env: map[string]string{envAdminToken: o.adminToken},
		},
		Started: true,
	}
	for _, opt := range opts {
		if err := opt.Customize(&req); err != nil {
			return nil, fmt.Errorf("container: customize: %w", err)
		}
	}
	// After the caller's options: the issuer and the binding must agree whatever they set.
	if req.Env == nil {
		req.Env = map[string]string{}
	}
	req.Env[envIssuer] = issuer
	callerHost := req.HostConfigModifier
	req.HostConfigModifier = func(hc *container.HostConfig) {
		if callerHost != nil {
			callerHost(hc)
		}
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		hc.PortBindings[network.MustParsePort(Port)] = []network.PortBinding{
			{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port)},
		}
	}
	// Ready when discovery answers (and any strategy of the caller's is met too).
	var ready wait.Strategy = wait.ForHTTP(oauth.PathOIDCDiscovery).WithPort(Port).WithForcedIPv4LocalHost().
		WithStartupTimeout(o.startup).WithPollInterval(50 * time.Millisecond)
	if req.WaitingFor != nil {
		ready = wait.ForAll(ready, req.WaitingFor)
	}
	req.WaitingFor = ready

	ctr, err := testcontainers.GenericContainer(ctx, req)
	var c *Container
	if ctr != nil {
		c = &Container{Container: ctr, issuer: issuer, adminToken: o.adminToken, hostPort: port}
	}
	if err != nil {
		if ctr != nil && !portTaken(err) {
			err = fmt.Errorf("%w\n%s", err, serverLog(ctx, ctr))
		}
		return c, fmt.Errorf("container: run %s: %w", img, err)
	}
	if err := c.checkIssuer(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// checkIssuer makes sure discovery names the issuer Run set: an image that ignores
// OAUTH_HARNESS_ISSUER (an old one) would otherwise fail later, on every token, obscurely.
func (c *Container) checkIssuer(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.issuer+oauth.PathOIDCDiscovery, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("container: discovery: %w", err)
	}
	defer resp.Body.Close()
	var md struct{ Issuer string }
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		return fmt.Errorf("container: discovery: %w", err)
	}
	if md.Issuer != c.issuer {
		return fmt.Errorf("container: discovery names the issuer %q, not %q: is the image older than OAUTH_HARNESS_ISSUER? (make image)",
			md.Issuer, c.issuer)
	}
	return nil
}

// serverLog is the end of the container's output, for the error of a server that did not start.
func serverLog(ctx context.Context, c testcontainers.Container) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r, err := c.Logs(ctx)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	defer r.Close()
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	return "server log:\n" + tail(string(b), 20)
}

// checkImage reports a missing image with the command that builds it.
func checkImage(ctx context.Context, img string) error {
	e, err := DetectEngine(ctx)
	if err != nil {
		return err
	}
	_, err = e.ImageSize(ctx, img)
	return err
}

// freePort asks the kernel for a port free on 127.0.0.1 now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("container: no free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// portFree fails fast, with ErrPortBusy, when a fixed port is taken.
func portFree(port int) error {
	ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%w: 127.0.0.1:%d: %w (choose another with WithHostPort)", ErrPortBusy, port, err)
	}
	return ln.Close()
}

// portTaken recognises the engines' words for a host port that is in use.
func portTaken(err error) bool {
	s := err.Error()
	return strings.Contains(s, "address already in use") || strings.Contains(s, "port is already allocated")
}
