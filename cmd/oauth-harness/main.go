// Command oauth-harness is the harness's one binary. Today it serves the reference authorization
// server and contacts API; the conformance, load and certification commands join it as they land.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `oauth-harness: conformance and load testing for OAuth 2.0 / OpenID Connect

Usage:
  oauth-harness conformance [flags]  run the conformance catalogue (default: against the embedded server)
  oauth-harness serve [flags]        run the reference authorization server and contacts API
  oauth-harness load [flags]         load-test a path (client credentials, refresh, API...) with vegeta
  oauth-harness certify-client --profile FILE
                                     certify a partner's OAuth client integration end to end
  oauth-harness target init --issuer URL
                                     write a commented target profile for a provider from its metadata
  oauth-harness version              print the build (module version, VCS revision); also --version
  oauth-harness help                 show this text

Run "oauth-harness COMMAND -h" for a command's flags.
`

// errUsage marks errors that the usage text explains.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "oauth-harness: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "oauth-harness: %v\n", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand; it never exits the process itself.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: a command is required", errUsage)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "conformance":
		return runConformance(ctx, args[1:], stdout, stderr)
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr)
	case "certify-client":
		return runCertify(ctx, args[1:], stdout, stderr)
	case "target":
		return runTarget(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, harnessVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
}
