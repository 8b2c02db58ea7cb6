@introspection-revocation @needs-client-credentials
Feature: Introspection and revocation
  A resource server asks the authorization server whether a token is still good (RFC 7662), and an
  app that is done with a token revokes it (RFC 7009).

  @rfc7662-2.2 @needs-introspection
  Scenario: A live token introspects as active with its client and scope
    Given Acme Sync has a token for the Contacts API
    When Acme Sync introspects its access token
    Then the introspection says the token is active for Acme Sync with scope "read:contacts"

  @rfc7662-2.2 @needs-introspection
  Scenario: A token the target never issued is not active
    When Acme Sync introspects a token the target never issued
    Then the introspection says the token is not active

  @rfc7662-2.1 @needs-introspection
  Scenario: Introspection needs client authentication
    Given Acme Sync has a token for the Contacts API
    When someone introspects Acme Sync's access token without client authentication
    Then the introspection is refused for want of client authentication

  @rfc7009-2.1 @needs-revocation @needs-introspection @contacts-api @needs-contacts-api
  Scenario: A revoked access token is no longer active nor accepted by the API
    Given Acme Sync has a token for the Contacts API
    When Acme Sync revokes its access token
    Then the revocation succeeds
    When Acme Sync introspects its access token
    Then the introspection says the token is not active
    When Acme Sync reads the contacts of account "globex"
    Then the API answers 401 with error "invalid_token"

  @rfc7009-2.2 @needs-revocation
  Scenario: Revoking a token the target never issued still answers 200
    When Acme Sync revokes a token the target never issued
    Then the revocation succeeds

  @rfc7009-2.1 @needs-revocation @needs-refresh-tokens @browser @needs-authorization-code
  Scenario: A revoked refresh token no longer refreshes
    Given Contacts Web holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When Contacts Web revokes its refresh token
    Then the revocation succeeds
    When Contacts Web refreshes its token
    Then the token request is refused with "invalid_grant" and status 400
