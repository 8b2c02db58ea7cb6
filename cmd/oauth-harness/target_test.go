package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/container"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
	"gopkg.in/yaml.v3"
)

// The image for these tests has a tag of its own, so that building it cannot pull the image from
// under the container package's tests, which run at the same time.
const testImage = "localhost/oauth-harness-reference:cmd-test"

var (
	imageOnce sync.Once
	imageErr  error
	engine    *container.Engine
)

func requireImage(t *testing.T) {
	t.Helper()
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if engine, imageErr = container.DetectEngine(ctx); imageErr != nil {
			return
		}
		if imageErr = engine.Setenv(); imageErr != nil {
			return
		}
		_, imageErr = container.BuildImage(ctx, container.BuildOptions{Engine: engine, Tag: testImage})
	})
	if imageErr != nil {
		if errors.Is(imageErr, container.ErrNoEngine) && os.Getenv("CI") != "true" {
			t.Skipf("skipped: %v", imageErr)
		}
		t.Fatalf("container set-up: %v", imageErr)
	}
	t.Setenv("OAUTH_HARNESS_IMAGE", testImage)
}

// leftovers lists the containers of the test image, running or not.
func leftovers(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(engine.CLI, "ps", "-a", "-q", "--filter", "ancestor="+testImage).CombinedOutput()
	if err != nil {
		t.Fatalf("%s ps: %v: %s", engine.CLI, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestConformanceAgainstTheReferenceContainer(t *testing.T) {
	requireImage(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"conformance", "--target", "container:reference", "--tags", "@discovery,@client-credentials",
		"--out", t.TempDir()}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("conformance --target container:reference: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "reference server in a container") || !strings.Contains(stderr.String(), "container removed") {
		t.Errorf("expected the run to name the container target and remove it:\n%s\n%s", stdout.String(), stderr.String())
	}
	if l := leftovers(t); l != "" {
		t.Errorf("containers left behind: %s", l)
	}
}

// A profile with a container: section starts any image, here the reference server's run as if it
// were a provider the harness knows nothing about, told its issuer through ${PORT}.
func TestConformanceAgainstAProfileWithAContainer(t *testing.T) {
	requireImage(t)
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		t.Fatal(err)
	}
	p := reference.Profile("http://127.0.0.1:${PORT}", "http://127.0.0.1:${PORT}/api", cfg, creds,
		[]string{target.CapClientCredentials, target.CapContactsAPI})
	p.Name = "a provider image"
	p.Container = &target.Container{Image: testImage, Port: 9000, WaitPath: "/.well-known/openid-configuration",
		Env: map[string]string{"OAUTH_HARNESS_ISSUER": "http://127.0.0.1:${PORT}"}}
	b, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "provider.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{"conformance", "--target", file, "--tags", "@client-credentials,@contacts-api",
		"--out", t.TempDir()}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("conformance --target %s: %v\n%s\n%s", file, err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "skipped") || !strings.Contains(stderr.String(), "container removed") {
		t.Errorf("expected skipped scenarios (no admin capability) and the container removed:\n%s\n%s", stdout.String(), stderr.String())
	}
	if l := leftovers(t); l != "" {
		t.Errorf("containers left behind: %s", l)
	}
}

// Ctrl-C while the container starts: the run stops and the container is still removed.
func TestInterruptedContainerRunLeavesNothing(t *testing.T) {
	requireImage(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel) // while the container starts
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"conformance", "--target", "container:reference", "--tags", "@discovery,@client-credentials", "--out", t.TempDir()}, &stdout, &stderr)
	if err == nil {
		t.Fatalf("an interrupted run succeeded:\n%s", stdout.String())
	}
	if l := leftovers(t); l != "" {
		t.Errorf("containers left behind after an interrupted run: %s", l)
	}
}

func TestUnknownContainerTarget(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"conformance", "--target", "container:keycloak"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "container:reference") {
		t.Errorf("err = %v", err)
	}
}

// The load command starts the same container target, runs, and removes it.
func TestLoadAgainstTheReferenceContainer(t *testing.T) {
	requireImage(t)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"load", "--target", "container:reference", "--scenario", "client-credentials",
		"--clients", "Acme Sync", "--rate", "20", "--duration", "1s", "--min-success", "1", "--out", t.TempDir()}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("load --target container:reference: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "container removed") {
		t.Errorf("the container was not removed:\n%s", stderr.String())
	}
	if l := leftovers(t); l != "" {
		t.Errorf("containers left behind: %s", l)
	}
}
