// Command image builds the reference server's image into the local container engine (`make image`),
// and with -check also starts it once and times how long it takes to answer.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/container"
	"github.com/testcontainers/testcontainers-go"
)

func main() {
	tag := flag.String("tag", container.DefaultImage, "image tag (fully qualified: Podman qualifies short names)")
	check := flag.Bool("check", false, "then run the image once: discovery, /healthz, start-to-ready time")
	verbose := flag.Bool("v", false, "show the compiler's and the engine's output")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *tag, *check, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tag string, check, verbose bool) error {
	e, err := container.DetectEngine(ctx)
	if err != nil {
		return err
	}
	var out io.Writer
	if verbose {
		out = os.Stderr
	}
	res, err := container.BuildImage(ctx, container.BuildOptions{Tag: tag, Engine: e, Output: out})
	if err != nil {
		return err
	}
	size, err := e.ImageSize(ctx, tag)
	if err != nil {
		return err
	}
	fmt.Printf("image: %s built with %s (%s): %.1f MiB; go build %s, image build %s\n",
		tag, e.Name, e.Host, float64(size)/(1<<20), res.Compile.Round(time.Millisecond), res.Build.Round(time.Millisecond))
	if !check {
		return nil
	}
	// testcontainers-go reads its configuration once, from the environment: export the engine first.
	if err := e.Setenv(); err != nil {
		return err
	}
	// Twice: the first Run includes testcontainers-go's handshake with the engine (once a process).
	for i, what := range []string{"first (with the engine handshake)", "second"} {
		start := time.Now()
		srv, err := container.Run(ctx, tag)
		ready := time.Since(start)
		if err != nil {
			_ = testcontainers.TerminateContainer(srv)
			return err
		}
		resp, err := http.Get(srv.IssuerURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		_ = testcontainers.TerminateContainer(srv)
		if err != nil {
			return err
		}
		fmt.Printf("image: run %d, %s: ready in %s (create, start, discovery answering); issuer %s; /healthz %s\n",
			i+1, what, ready.Round(time.Millisecond), srv.IssuerURL(), resp.Status)
	}
	return nil
}
