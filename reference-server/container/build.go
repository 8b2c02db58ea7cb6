package container

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// DefaultImage is the tag that `make image` builds and the tests run. It is fully qualified because
// Podman qualifies a short name with a registry of its own choosing.
const DefaultImage = "localhost/oauth-harness-reference:dev"

// dockerfile is the image's recipe, relative to the module's root.
const dockerfile = "reference-server/Dockerfile"

// BuildOptions tune BuildImage; the zero value builds DefaultImage into the detected engine.
type BuildOptions struct {
	Tag      string  // default DefaultImage
	RepoRoot string  // the module's root; default: the one `go env GOMOD` finds from the working directory
	Engine   *Engine // default: DetectEngine
	// Output receives the compiler's and the engine's output as they go; it is always kept, and its
	// end is quoted in the error of a failed build.
	Output io.Writer
}

// BuildResult says what BuildImage made.
type BuildResult struct {
	Tag     string
	Engine  *Engine
	Compile time.Duration // go build of the static binary
	Build   time.Duration // the engine's image build
}

// BuildImage builds the reference server's image from the repository. It compiles a static
// oauth-harness on the host (CGO_ENABLED=0, GOOS=linux, the host's architecture, which a local engine shares) into an empty
// directory beside a copy of reference-server/Dockerfile, so that the build context is those two
// files, then runs `docker build` or `podman build` there. The image is FROM scratch: nothing is
// pulled.
func BuildImage(ctx context.Context, opts BuildOptions) (*BuildResult, error) {
	if opts.Tag == "" {
		opts.Tag = DefaultImage
	}
	e := opts.Engine
	if e == nil {
		var err error
		if e, err = DetectEngine(ctx); err != nil {
			return nil, err
		}
	}
	root := opts.RepoRoot
	if root == "" {
		var err error
		if root, err = repoRoot(ctx); err != nil {
			return nil, err
		}
	}
	recipe, err := os.ReadFile(filepath.Join(root, dockerfile))
	if err != nil {
		return nil, fmt.Errorf("container: the image's recipe: %w", err)
	}
	dir, err := os.MkdirTemp("", "oauth-harness-image-")
	if err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), recipe, 0o644); err != nil {
		return nil, fmt.Errorf("container: %w", err)
	}
	res := &BuildResult{Tag: opts.Tag, Engine: e}

	start := time.Now()
	gobuild := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w",
		"-o", filepath.Join(dir, "oauth-harness"), "./cmd/oauth-harness")
	gobuild.Dir = root
	// Static, so that FROM scratch suffices: no libc, no loader. -s -w: no symbol tables (a smaller image).
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if err := runLogged(gobuild, opts.Output); err != nil {
		return nil, fmt.Errorf("container: go build of the static binary: %w", err)
	}
	res.Compile = time.Since(start)

	// The image the tag names now, removed once the tag moves on: every test run rebuilds, and
	// the old images would pile up untagged.
	var previous string
	if info, err := e.inspectImage(ctx, opts.Tag); err == nil {
		previous = info.ID
	}
	args := []string{"build", "-t", opts.Tag, "-f", filepath.Join(dir, "Dockerfile")}
	if filepath.Base(e.CLI) == "podman" {
		// Podman writes OCI images by default, and the OCI format has no HEALTHCHECK. No
		// intermediate images either: each step is a few bytes of metadata, not worth a cache.
		args = append(args, "--format", "docker", "--layers=false")
	}
	args = append(args, dir)
	start = time.Now()
	build := e.command(ctx, args...)
	build.Dir = dir
	if err := runLogged(build, opts.Output); err != nil {
		return nil, fmt.Errorf("container: %s %s: %w", filepath.Base(e.CLI), strings.Join(args, " "), err)
	}
	res.Build = time.Since(start)
	if info, err := e.inspectImage(ctx, opts.Tag); err == nil && previous != "" && info.ID != previous {
		// Best effort: a container still running the old image keeps it.
		_ = e.command(ctx, "rmi", previous).Run()
	}
	return res, nil
}

// command runs the engine's CLI. The docker CLI is pointed at the daemon that answered, not at
// another one its context may name.
func (e *Engine) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.CLI, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.Host)
	return cmd
}

// runLogged runs cmd with its output copied to w, and quotes the output's end in the error.
func runLogged(cmd *exec.Cmd, w io.Writer) error {
	var out bytes.Buffer
	var dst io.Writer = &out
	if w != nil {
		dst = io.MultiWriter(&out, w)
	}
	cmd.Stdout, cmd.Stderr = dst, dst
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(out.String(), 20))
	}
	return nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// goTool is the go command: on PATH, else the one of $GOROOT (go test sets it for its binaries).
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return "go"
}

// repoRoot is the directory of the main module's go.mod, seen from the working directory.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("container: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("container: not inside the oauth-harness module: set BuildOptions.RepoRoot")
	}
	return filepath.Dir(mod), nil
}
