package tenant

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Errors of the mutations. A change that leaves an invalid configuration fails with *ValidationError.
var (
	ErrNotFound = errors.New("tenant: not found")
	ErrExists   = errors.New("tenant: already exists")
)

// Problem is one reason a change was refused.
type Problem struct {
	// Field is relative to the object changed ("redirect_uris[0]") when the problem lies in it, and
	// the whole path otherwise.
	Field string `json:"field"`
	// Path locates the field in the whole configuration ("applications[3].redirect_uris[0]").
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists why a change was refused, each problem naming its field.
type ValidationError struct {
	Problems []Problem
	// Elsewhere is true when a problem lies outside the object changed: the change breaks another
	// part of the tenant (a deleted API that default_audience still names), rather than being malformed.
	Elsewhere bool
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "tenant: " + strings.Join(parts, "; ")
}

// fieldError is a ValidationError about one field of the object changed.
func fieldError(field, format string, args ...any) *ValidationError {
	return &ValidationError{Problems: []Problem{{Field: field, Path: field, Message: fmt.Sprintf(format, args...)}}}
}

// Update applies change to a deep copy of the configuration, validates the result as a whole and
// swaps it in. Writers are serialised so that concurrent updates never lose each other's changes;
// readers keep the previous configuration, untouched, until the swap. An error from change is
// returned as is and changes nothing.
func (t *Tenant) Update(change func(*Config) error) error {
	return t.UpdateAt(func(c *Config) (string, error) { return "", change(c) })
}

// UpdateAt is Update for a change to one object: change returns the object's path in the Config
// ("applications[3]"), and the problems of a refused change are named relative to it, so that a
// fault in the object names its member and only a fault elsewhere sets Elsewhere.
func (t *Tenant) UpdateAt(change func(*Config) (string, error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	cfg := t.Config().Clone()
	at, err := change(cfg)
	if err != nil {
		return err
	}
	if err := t.replaceLocked(cfg); err != nil {
		return asValidationError(err, at)
	}
	return nil
}

// asValidationError splits Validate's joined "path: message" errors into problems.
func asValidationError(err error, at string) *ValidationError {
	errs := []error{err}
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		errs = multi.Unwrap()
	}
	ve := &ValidationError{}
	for _, e := range errs {
		path, msg, ok := strings.Cut(e.Error(), ": ")
		if !ok {
			path, msg = "", e.Error()
		}
		field, inside := strings.CutPrefix(path, at+".")
		if at == "" || !inside {
			field = path
			ve.Elsewhere = true
		}
		ve.Problems = append(ve.Problems, Problem{Field: field, Path: path, Message: msg})
	}
	return ve
}

// AddAPI adds an API; its identifier must be new.
func (t *Tenant) AddAPI(a API) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		if slices.ContainsFunc(c.APIs, func(x API) bool { return x.Identifier == a.Identifier }) {
			return "", fmt.Errorf("%w: an API has identifier %q", ErrExists, a.Identifier)
		}
		c.APIs = append(c.APIs, clone(a))
		return fmt.Sprintf("apis[%d]", len(c.APIs)-1), nil
	})
}

// UpdateAPI replaces the API with this identifier. The identifier is the tokens' audience and
// cannot change; a.Identifier may be left empty.
func (t *Tenant) UpdateAPI(identifier string, a API) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.APIs, func(x API) bool { return x.Identifier == identifier })
		if i < 0 {
			return "", fmt.Errorf("%w: no API has identifier %q", ErrNotFound, identifier)
		}
		if a.Identifier == "" {
			a.Identifier = identifier
		}
		if a.Identifier != identifier {
			return "", fieldError("identifier", "cannot change (it is the tokens' audience): delete the API and create another")
		}
		c.APIs[i] = clone(a)
		return fmt.Sprintf("apis[%d]", i), nil
	})
}

// DeleteAPI removes an API with the client grants and seed consents for it. It fails while the
// tenant's default_audience or contacts_api names it.
func (t *Tenant) DeleteAPI(identifier string) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.APIs, func(x API) bool { return x.Identifier == identifier })
		if i < 0 {
			return "", fmt.Errorf("%w: no API has identifier %q", ErrNotFound, identifier)
		}
		c.APIs = slices.Delete(c.APIs, i, i+1)
		c.ClientGrants = slices.DeleteFunc(c.ClientGrants, func(g ClientGrant) bool { return g.Audience == identifier })
		c.Consents = slices.DeleteFunc(c.Consents, func(s Consent) bool { return s.Audience == identifier })
		return "", nil
	})
}

// AddApplication adds an application; its client_id must be new.
func (t *Tenant) AddApplication(a Application) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		if slices.ContainsFunc(c.Applications, func(x Application) bool { return x.ClientID == a.ClientID }) {
			return "", fmt.Errorf("%w: an application has client_id %q", ErrExists, a.ClientID)
		}
		c.Applications = append(c.Applications, clone(a))
		return fmt.Sprintf("applications[%d]", len(c.Applications)-1), nil
	})
}

// UpdateApplication replaces the application with this client_id, which cannot change;
// a.ClientID may be left empty.
func (t *Tenant) UpdateApplication(clientID string, a Application) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.Applications, func(x Application) bool { return x.ClientID == clientID })
		if i < 0 {
			return "", fmt.Errorf("%w: no application has client_id %q", ErrNotFound, clientID)
		}
		if a.ClientID == "" {
			a.ClientID = clientID
		}
		if a.ClientID != clientID {
			return "", fieldError("client_id", "cannot change: delete the application and create another")
		}
		c.Applications[i] = clone(a)
		return fmt.Sprintf("applications[%d]", i), nil
	})
}

// DeleteApplication removes an application with its client grants and seed consents. Consents and
// grants given at run time live in the store: the caller revokes them there.
func (t *Tenant) DeleteApplication(clientID string) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.Applications, func(x Application) bool { return x.ClientID == clientID })
		if i < 0 {
			return "", fmt.Errorf("%w: no application has client_id %q", ErrNotFound, clientID)
		}
		c.Applications = slices.Delete(c.Applications, i, i+1)
		c.ClientGrants = slices.DeleteFunc(c.ClientGrants, func(g ClientGrant) bool { return g.ClientID == clientID })
		c.Consents = slices.DeleteFunc(c.Consents, func(s Consent) bool { return s.ClientID == clientID })
		return "", nil
	})
}

func grantIndex(c *Config, clientID, audience string) int {
	return slices.IndexFunc(c.ClientGrants, func(g ClientGrant) bool { return g.ClientID == clientID && g.Audience == audience })
}

// AddClientGrant adds a client grant; the client may hold one grant per API.
func (t *Tenant) AddClientGrant(g ClientGrant) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		if grantIndex(c, g.ClientID, g.Audience) >= 0 {
			return "", fmt.Errorf("%w: %q already has a grant for %q", ErrExists, g.ClientID, g.Audience)
		}
		c.ClientGrants = append(c.ClientGrants, clone(g))
		return fmt.Sprintf("client_grants[%d]", len(c.ClientGrants)-1), nil
	})
}

// UpdateClientGrant replaces the scopes of the grant of g.ClientID for g.Audience.
func (t *Tenant) UpdateClientGrant(g ClientGrant) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := grantIndex(c, g.ClientID, g.Audience)
		if i < 0 {
			return "", fmt.Errorf("%w: %q has no grant for %q", ErrNotFound, g.ClientID, g.Audience)
		}
		c.ClientGrants[i] = clone(g)
		return fmt.Sprintf("client_grants[%d]", i), nil
	})
}

// DeleteClientGrant removes the grant of clientID for audience.
func (t *Tenant) DeleteClientGrant(clientID, audience string) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := grantIndex(c, clientID, audience)
		if i < 0 {
			return "", fmt.Errorf("%w: %q has no grant for %q", ErrNotFound, clientID, audience)
		}
		c.ClientGrants = slices.Delete(c.ClientGrants, i, i+1)
		return "", nil
	})
}

// AddUser adds a user; id and email must be new (Validate checks the email).
func (t *Tenant) AddUser(u User) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		if slices.ContainsFunc(c.Users, func(x User) bool { return x.ID == u.ID }) {
			return "", fmt.Errorf("%w: a user has id %q", ErrExists, u.ID)
		}
		c.Users = append(c.Users, clone(u))
		return fmt.Sprintf("users[%d]", len(c.Users)-1), nil
	})
}

// UpdateUser replaces the user with this id, which cannot change; u.ID may be left empty.
func (t *Tenant) UpdateUser(id string, u User) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.Users, func(x User) bool { return x.ID == id })
		if i < 0 {
			return "", fmt.Errorf("%w: no user has id %q", ErrNotFound, id)
		}
		if u.ID == "" {
			u.ID = id
		}
		if u.ID != id {
			return "", fieldError("id", "cannot change: tokens and consents refer to it")
		}
		c.Users[i] = clone(u)
		return fmt.Sprintf("users[%d]", i), nil
	})
}

// DeleteUser removes a user with the user's seed consents. The user's sessions, consents and grants
// at run time live in the store: the caller revokes them there.
func (t *Tenant) DeleteUser(id string) error {
	return t.UpdateAt(func(c *Config) (string, error) {
		i := slices.IndexFunc(c.Users, func(x User) bool { return x.ID == id })
		if i < 0 {
			return "", fmt.Errorf("%w: no user has id %q", ErrNotFound, id)
		}
		c.Users = slices.Delete(c.Users, i, i+1)
		c.Consents = slices.DeleteFunc(c.Consents, func(s Consent) bool { return s.UserID == id })
		return "", nil
	})
}

// Clone returns a deep copy of c: no slice, map or pointer is shared with c, so the copy can be
// changed while readers still use c. It works by reflection so that fields added to the model later
// are copied too; values behind interfaces (parsed keys, say) are shared, being immutable.
func (c *Config) Clone() *Config { return clone(c) }

func clone[T any](v T) T {
	return deepCopy(reflect.ValueOf(&v).Elem()).Interface().(T)
}

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(deepCopy(v.Elem()))
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(deepCopy(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			n.SetMapIndex(deepCopy(it.Key()), deepCopy(it.Value()))
		}
		return n
	case reflect.Struct, reflect.Array:
		n := reflect.New(v.Type()).Elem()
		n.Set(v) // scalars and unexported fields (of library types such as time.Time) as they are
		if v.Kind() == reflect.Array {
			for i := range v.Len() {
				n.Index(i).Set(deepCopy(v.Index(i)))
			}
			return n
		}
		for i := range v.NumField() {
			if n.Field(i).CanSet() {
				n.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return n
	default:
		return v
	}
}
