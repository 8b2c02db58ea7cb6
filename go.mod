module github.com/oauth-harness/oauth-harness

go 1.26.0

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	golang.org/x/crypto v0.58.0
	gopkg.in/yaml.v3 v3.0.1
)
