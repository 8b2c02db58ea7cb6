package serverproc

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// fakeEnv makes this test binary a fake server: it prints serve's lines and waits for SIGTERM, or
// ("fail") exits at once.
const fakeEnv = "SERVERPROC_TEST_FAKE"

func init() {
	switch os.Getenv(fakeEnv) {
	case "serve":
		if os.Getenv(AdminTokenEnv) == "" {
			os.Exit(3)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		fmt.Println("issuer:    http://127.0.0.1:4444\napi:       http://127.0.0.1:4444/api\nhealth:    http://127.0.0.1:4444/healthz")
		<-sig
		os.Exit(0)
	case "fail":
		fmt.Println("issuer: http://127.0.0.1:1")
		os.Exit(1)
	}
}

func exe(t *testing.T) string {
	e, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestStartReadsTheServerAndStopsIt(t *testing.T) {
	t.Setenv(fakeEnv, "serve")
	p, err := Start(context.Background(), exe(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "http://127.0.0.1:4444" || p.APIBaseURL != "http://127.0.0.1:4444/api" || p.AdminToken == "" || p.PID() <= 0 {
		t.Errorf("proc %+v", p)
	}
	if err := p.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestStartFailsWhenTheServerExits(t *testing.T) {
	t.Setenv(fakeEnv, "fail")
	if _, err := Start(context.Background(), exe(t), nil, nil); err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("err = %v", err)
	}
	if _, err := Start(context.Background(), "/nonexistent/oauth-harness", nil, nil); err == nil {
		t.Error("a missing program started")
	}
}
