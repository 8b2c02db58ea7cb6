@discovery
Feature: Discovery and signing keys
  A client configured with nothing but the issuer URL finds every endpoint and the keys that sign
  the tokens it will be given.

  @rfc8414-3.3 @oidc-discovery-4.3
  Scenario: The discovery document belongs to the issuer
    When a client reads the discovery document
    Then the document's issuer is the target's issuer
    And the document names https authorization, token and JWKS endpoints

  @rfc8414-3 @needs-oauth-metadata
  Scenario: The OAuth metadata and the OpenID configuration agree
    When a client reads the discovery document
    Then the OAuth authorization server metadata names the same issuer and endpoints

  @rfc7517-4.5
  Scenario: Every signing key has its own kid
    When a client reads the JWKS
    Then every key has a kid
    And no two keys share a kid
    And no key carries private material
