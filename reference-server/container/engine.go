package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrImageMissing means that the engine has no such image (and Run would try to pull it).
var ErrImageMissing = errors.New("image missing")

// ErrNoEngine means that no container engine answers: neither a Docker daemon nor Podman's service.
var ErrNoEngine = errors.New("no container engine")

// Engine is a container engine with a Docker-compatible API, as testcontainers-go needs it.
type Engine struct {
	Name string // "docker" or "podman", as the engine names itself in /_ping
	Host string // its API, in DOCKER_HOST form: unix:///run/podman/podman.sock
	// CLI is the command line that builds images into this engine: docker, or podman (which builds
	// into the same storage that its service, run by the same user, serves).
	CLI string
}

// Sockets where engines listen when DOCKER_HOST says nothing, in the order they are tried: Docker
// first, then the Podman service that .ci/engine starts (rootful), then rootless ones.
func candidateHosts() []string {
	hosts := []string{"unix:///var/run/docker.sock", "unix:///run/podman/podman.sock"}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		hosts = append(hosts, "unix://"+filepath.Join(dir, "podman", "podman.sock"), "unix://"+filepath.Join(dir, "docker.sock"))
	}
	return hosts
}

// DetectEngine finds the engine to use: the one DOCKER_HOST names (which must answer), else the
// first that answers at the usual sockets. The CLI is $OAUTH_HARNESS_CONTAINER_CLI when set, else
// the engine's own. Its error wraps ErrNoEngine when no engine answers.
func DetectEngine(ctx context.Context) (*Engine, error) {
	var tried []string
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		e, err := probeEngine(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("%w: DOCKER_HOST=%s does not answer (%v): start that engine or unset DOCKER_HOST",
				ErrNoEngine, h, err)
		}
		return withCLI(e)
	}
	for _, h := range candidateHosts() {
		e, err := probeEngine(ctx, h)
		if err == nil {
			return withCLI(e)
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", strings.TrimPrefix(h, "unix://"), err))
	}
	return nil, fmt.Errorf("%w: none answers at %s; run .ci/engine (as root with apt it installs and starts "+
		"Podman) and export what it prints, or start Docker", ErrNoEngine, strings.Join(tried, ", "))
}

func withCLI(e *Engine) (*Engine, error) {
	cli := os.Getenv("OAUTH_HARNESS_CONTAINER_CLI")
	if cli == "" {
		cli = e.Name
	}
	path, err := exec.LookPath(cli)
	if err != nil {
		return nil, fmt.Errorf("container: %s answers at %s but its command line %q, which builds the image, is not on PATH",
			e.Name, e.Host, cli)
	}
	e.CLI = path
	return e, nil
}

// Env is the environment that points testcontainers-go (and the docker CLI) at the engine. Ryuk,
// the reaper container, stays off unless TESTCONTAINERS_RYUK_DISABLED says otherwise: its image
// would have to be pulled, which machines without a registry cannot do, and Run's callers remove
// their containers themselves (testcontainers.CleanupContainer). The host override keeps requests
// to containers on 127.0.0.1, where Run publishes the port.
func (e *Engine) Env() map[string]string {
	env := map[string]string{"DOCKER_HOST": e.Host, "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1"}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		env["TESTCONTAINERS_RYUK_DISABLED"] = "true"
	}
	return env
}

// Setenv exports Env in this process. Call it before the first testcontainers-go call: that library
// reads its configuration once.
func (e *Engine) Setenv() error {
	for k, v := range e.Env() {
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}

// probeEngine asks host's API for /_ping, which both Docker and Podman answer.
func probeEngine(ctx context.Context, host string) (*Engine, error) {
	client, base, err := apiClient(host)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ping", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /_ping: %s", resp.Status)
	}
	// Podman names itself in /_ping's headers; /version would say so too, but Podman takes seconds
	// to answer it on a busy machine (it gathers system facts).
	name := "docker"
	if resp.Header.Get("Libpod-Api-Version") != "" || strings.Contains(resp.Header.Get("Server"), "Libpod") {
		name = "podman"
	}
	return &Engine{Name: name, Host: host}, nil
}

// ImageSize is the size in bytes of an image the engine holds (the engine's own count: Docker's
// and Podman's differ a little for the same image). Its error wraps ErrImageMissing when there is
// no such image.
func (e *Engine) ImageSize(ctx context.Context, image string) (int64, error) {
	info, err := e.inspectImage(ctx, image)
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

type imageInfo struct {
	ID   string `json:"Id"`
	Size int64
}

func (e *Engine) inspectImage(ctx context.Context, image string) (*imageInfo, error) {
	client, base, err := apiClient(e.Host)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(image, "?# ") {
		return nil, fmt.Errorf("container: %q is not an image reference", image)
	}
	// Not escaped: the API takes the reference's slashes as they are (so does the docker client).
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/images/"+image+"/json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("container: %s: %w", e.Host, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s is not in the %s engine at %s: build it with `make image`", ErrImageMissing, image, e.Name, e.Host)
	default:
		return nil, fmt.Errorf("container: inspect %s: %s", image, resp.Status)
	}
	var info imageInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, fmt.Errorf("container: inspect %s: %w", image, err)
	}
	return &info, nil
}

// apiClient is an HTTP client for a DOCKER_HOST: a unix socket or plain tcp (TLS is the docker
// CLI's business: such an engine is not probed here).
func apiClient(host string) (*http.Client, string, error) {
	switch {
	case strings.HasPrefix(host, "unix://"):
		path := strings.TrimPrefix(host, "unix://")
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("no socket at %s", path)
		}
		dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}, "http://engine", nil
	case strings.HasPrefix(host, "tcp://"):
		return http.DefaultClient, "http://" + strings.TrimPrefix(host, "tcp://"), nil
	}
	return nil, "", fmt.Errorf("DOCKER_HOST %q is neither unix:// nor tcp://", host)
}
