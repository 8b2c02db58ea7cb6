package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Token is a decoded token a step attached (a "token-*.json" attachment).
type Token struct {
	Kind   string  // "access token", "ID token", ...
	Header []Claim // in the order the step wrote them
	Claims []Claim
}

// Claim is one member of a token's header or payload, ready to show.
type Claim struct {
	Name  string
	Value string // a string as is; anything else as compact JSON
	Note  string // for a time claim, the time it stands for
}

// timeClaims hold NumericDate values (RFC 7519 §2) worth showing as times.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true, "updated_at": true}

// Token decodes a token attachment: {"kind": "...", "header": {...}, "claims": {...}}.
func (a Attachment) Token() (*Token, error) {
	if !a.IsToken() {
		return nil, errors.New("not a token attachment")
	}
	var raw struct {
		Kind   string          `json:"kind"`
		Header json.RawMessage `json:"header"`
		Claims json.RawMessage `json:"claims"`
	}
	if err := json.Unmarshal(a.Data, &raw); err != nil {
		return nil, fmt.Errorf("token attachment %q: %w", a.Name, err)
	}
	t := &Token{Kind: raw.Kind}
	var err error
	if t.Header, err = orderedMembers(raw.Header); err != nil {
		return nil, fmt.Errorf("token attachment %q: header: %w", a.Name, err)
	}
	if t.Claims, err = orderedMembers(raw.Claims); err != nil {
		return nil, fmt.Errorf("token attachment %q: claims: %w", a.Name, err)
	}
	return t, nil
}

// orderedMembers lists an object's members in document order (a map would sort them, and iss,
// sub, aud first reads better than alphabetical).
func orderedMembers(obj json.RawMessage) ([]Claim, error) {
	if len(bytes.TrimSpace(obj)) == 0 || bytes.Equal(bytes.TrimSpace(obj), []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []Claim
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, claim(name, v))
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

func claim(name string, v json.RawMessage) Claim {
	c := Claim{Name: name}
	var s string
	if json.Unmarshal(v, &s) == nil {
		c.Value = s
		return c
	}
	var compact bytes.Buffer
	if json.Compact(&compact, v) == nil {
		c.Value = compact.String()
	} else {
		c.Value = string(v)
	}
	var n json.Number
	if timeClaims[name] && json.Unmarshal(v, &n) == nil {
		if f, err := n.Float64(); err == nil && f > 0 && f < 1e11 {
			c.Note = time.Unix(int64(f), 0).UTC().Format(time.RFC3339)
		}
	}
	return c
}
