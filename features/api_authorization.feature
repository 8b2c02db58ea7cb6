@contacts-api @needs-contacts-api @needs-client-credentials
Feature: The contacts API authorizes on the token's claims
  The API trusts a token only after checking its signature, type, issuer, audience and expiry, and
  then lets it do only what its scopes allow.

  @rfc6750-2.1
  Scenario: A token with the right scope reads contacts
    Given Acme Sync has a token for the Contacts API
    When Acme Sync reads the contacts of account "globex"
    Then the API answers 200

  @rfc6750-3.1
  Scenario: A token without the scope cannot write
    Given Acme Sync has a token for the Contacts API
    When Acme Sync adds a contact to account "globex"
    Then the API answers 403 with error "insufficient_scope"
    And the API's challenge names the scope "update:contacts"

  @rfc6750-3.1
  Scenario: No token, no access
    When someone reads the contacts of account "globex" without a token
    Then the API answers 401

  @rfc9700-4.3.2 @rfc6750-2.3
  Scenario: A bearer token in the query string is refused
    Given Acme Sync has a token for the Contacts API
    When Acme Sync reads the contacts of account "globex" with the token in the query string
    Then the API refuses the request

  @rfc9068-4 @needs-admin @isolated
  Scenario: An expired token is refused
    Given the target issues Acme Sync tokens that are already expired
    And Acme Sync has a token for the Contacts API
    When Acme Sync reads the contacts of account "globex"
    Then the API answers 401 with error "invalid_token"

  @rfc9068-4 @needs-admin @isolated
  Scenario: A token that is not yet valid is refused
    Given the target issues Acme Sync tokens dated 10 minutes in the future
    And Acme Sync has a token for the Contacts API
    When Acme Sync reads the contacts of account "globex"
    Then the API answers 401 with error "invalid_token"

  @rfc9068-4 @rfc8725-3.8 @needs-admin @isolated
  Scenario: A token from another issuer is refused, even signed with the right key
    Given the target issues Acme Sync tokens naming the issuer "https://other-tenant.example/"
    And Acme Sync has a token for the Contacts API
    When Acme Sync reads the contacts of account "globex"
    Then the API answers 401 with error "invalid_token"
