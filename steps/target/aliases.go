package target

// Role is an alias the catalogue's features name, and what the target's client, user or API behind
// it must be for the scenarios that use it to tell the truth.
type Role struct {
	Kind  string // "client", "user" or "API"
	Alias string
	Role  string
}

// Roles lists every alias the built-in catalogue uses. A profile maps each to one of its own
// clients, users or APIs; a scenario naming an alias the profile leaves out is skipped, saying so.
// `target init` writes them into a new profile, and README's "Aliases and roles" table is this list.
var Roles = []Role{
	{"API", "Contacts API", "the protected API most scenarios ask tokens for; scopes read:contacts and update:contacts; allows offline access (refresh tokens)"},
	{"API", "Reports API", "a second API, with read:reports; does NOT allow offline access, and Acme Sync has no client grant for it"},
	{"API", "Calendar API", "a third API (read:calendar), signed like the Contacts API: its tokens must be refused by the Contacts API for their audience alone"},
	{"client", "Contacts Web", "a confidential first-party web app (authorization code + PKCE, refresh tokens) that gets no consent page"},
	{"client", "Acme CMS", "a confidential third-party web app: the user must consent before it gets a code"},
	{"client", "Contacts SPA", "a public client (no secret, token_endpoint_auth_method none) that must use PKCE"},
	{"client", "Contacts Legacy SPA", "a public client allowed the implicit flow (id_token token); only for @legacy scenarios"},
	{"client", "Acme Sync", "a machine-to-machine client (client credentials, client_secret_basic) granted read:contacts on the Contacts API only"},
	{"client", "Contacts Importer", "a machine-to-machine client authenticating with client_secret_post, granted read:contacts and update:contacts on the Contacts API"},
	{"client", "Acme Reports Bot", "a machine-to-machine client authenticating with private_key_jwt (its private JWK in private_key)"},
	{"client", "Ops Console", "a trusted first-party app allowed the password grant; only for @trusted scenarios"},
	{"user", "paul", "a user who can log in (with subject, the sub the target gives him); in account globex for the contacts API"},
}
