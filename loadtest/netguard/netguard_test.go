package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckURLs(t *testing.T) {
	ctx := context.Background()
	if err := CheckURLs(ctx, "http://127.0.0.1:9000", "http://localhost:1/x", "http://[::1]:80", ""); err != nil {
		t.Errorf("loopback URLs refused: %v", err)
	}
	for _, u := range []string{"http://10.0.0.1/", "https://192.0.2.7:443/token", "not a url", "http:///path"} {
		if err := CheckURLs(ctx, u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	if err := CheckURLs(ctx, "http://203.0.113.9/"); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("err = %v, want ErrNotLoopback", err)
	}
}

func TestDialerRefusesBeforeConnecting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{DialContext: Dialer(false).DialContext}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	resp.Body.Close()
	// 192.0.2.0/24 is TEST-NET-1: the control hook refuses it before any packet is sent.
	_, err = Dialer(false).DialContext(context.Background(), "tcp", "192.0.2.1:80")
	if !errors.Is(err, ErrNotLoopback) {
		t.Errorf("dial 192.0.2.1: err = %v, want ErrNotLoopback", err)
	}
}
