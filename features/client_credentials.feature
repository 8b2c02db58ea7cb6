@client-credentials @needs-client-credentials
Feature: Machine-to-machine access with client credentials
  Acme Sync, Acme's background sync service, calls the Contacts API as itself: no user is involved,
  so the token's subject is the application and its scopes are those of its client grant.

  @rfc6749-4.4 @rfc9068-2.2
  Scenario: Acme Sync gets a token for the Contacts API
    When Acme Sync asks for a token for the Contacts API with scope "read:contacts"
    Then the token request succeeds
    And the access token's client is Acme Sync
    And the access token's aud is the identifier of the Contacts API
    And the access token's iss is the target's issuer
    And the access token's scope is exactly "read:contacts"
    And the access token expires after the Contacts API's token lifetime
    And the access token's signature verifies with the JWKS key named by its kid

  @rfc9068-2.2
  Scenario: A machine's token names the client as its subject, where the target declares it
    When Acme Sync asks for a token for the Contacts API
    Then the token request succeeds
    And the access token's sub is the client id of Acme Sync

  @rfc9068-2.1
  Scenario: The access token is typed as an access token
    When Acme Sync asks for a token for the Contacts API
    Then the token request succeeds
    And the access token's header typ is "at+jwt"

  @rfc6749-5.2
  Scenario: A wrong secret is refused
    When Acme Sync asks for a token for the Contacts API with a wrong secret
    Then the token request is refused with "invalid_client" and status 401

  @rfc6749-5.2
  Scenario: An unknown client is refused
    When an unknown client asks for a token for the Contacts API
    Then the token request is refused with "invalid_client" and status 401

  @rfc6749-3.3
  Scenario: Scopes beyond the client grant are refused, or cut to the grant
    When Acme Sync asks for a token for the Contacts API with scope "read:contacts update:contacts"
    Then the token request is refused with "invalid_scope" or granted no "update:contacts"

  @rfc6749-5.2
  Scenario: No client grant for the API means no token
    When Acme Sync asks for a token for the Reports API
    Then the token request is refused

  @rfc6749-5.2
  Scenario: An unsupported grant type is refused
    When Acme Sync asks for a token with grant type "urn:example:unknown"
    Then the token request is refused with "unsupported_grant_type" and status 400

  @rfc6749-2.3.1
  Scenario: Contacts Importer authenticates with client_secret_post
    When Contacts Importer asks for a token for the Contacts API with scope "read:contacts update:contacts"
    Then the token request succeeds
    And the access token's client is Contacts Importer
    And the access token's scope is exactly "read:contacts update:contacts"

  @rfc7523-2.2 @rfc7521-4.2 @needs-private-key-jwt
  Scenario: Acme Reports Bot authenticates with a signed assertion (private_key_jwt)
    When Acme Reports Bot asks for a token for the Contacts API
    Then the token request succeeds
    And the access token's client is Acme Reports Bot

  @rfc8414-2 @rfc6749-2.3
  Scenario: Every client authentication method the target advertises works
    When each client authentication method the target advertises is used to get a token
    Then every one of them succeeds
