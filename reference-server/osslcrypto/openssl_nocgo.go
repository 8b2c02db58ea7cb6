//go:build !(cgo && unix)

package osslcrypto

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
)

// Without cgo (the static CGO_ENABLED=0 build) OpenSSL cannot be loaded: everything stays in Go.
var errNoCgo = errors.New("built without cgo: libcrypto cannot be loaded")

func loadLibcrypto() (string, error) { return "", errNoCgo }

func newRSAPrivate(*rsa.PrivateKey) (privateOps, error)     { return nil, errNoCgo }
func newRSAPublic(*rsa.PublicKey) (publicOps, error)        { return nil, errNoCgo }
func newECDSAPrivate(*ecdsa.PrivateKey) (privateOps, error) { return nil, errNoCgo }
func newECDSAPublic(*ecdsa.PublicKey) (publicOps, error)    { return nil, errNoCgo }
