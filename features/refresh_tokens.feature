@refresh-tokens @browser @needs-refresh-tokens @needs-authorization-code
Feature: Refresh tokens keep background sync going
  An app syncs contacts in the background with a refresh token, which it gets only when it asks for
  offline_access on an API that allows it. Every refresh rotates the token; the reuse of an old one
  means it was stolen, so the whole family is revoked.

  @rfc6749-6 @oidc-core-11
  Scenario: Without offline_access there is no refresh token
    When paul signs in to Contacts Web asking for "openid read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    Then the token request succeeds
    And no refresh token was issued

  @rfc6749-6 @oidc-core-11
  Scenario: An API that does not allow offline access gives no refresh token
    Given paul has enabled Contacts Web with "openid offline_access read:reports" on the Reports API
    When Contacts Web exchanges the code for tokens
    Then the token request succeeds
    And no refresh token was issued

  @rfc6749-6 @rfc9700-4.14.2
  Scenario: A refresh gives a new access token and rotates the refresh token
    Given Contacts Web holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When Contacts Web refreshes its token
    Then the token request succeeds
    And a new refresh token was issued
    And the access token's sub is paul
    And the access token's aud is the identifier of the Contacts API
    And the access token's scope is exactly "openid offline_access read:contacts"

  @rfc9700-4.14.2 @rfc6819-5.2.2.3
  Scenario: Reusing a rotated refresh token is refused and revokes the family
    Given Contacts Web holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When Contacts Web refreshes its token
    And Contacts Web refreshes with the refresh token it has already used
    Then the token request is refused with "invalid_grant" and status 400
    When Contacts Web refreshes its token
    Then the token request is refused with "invalid_grant" and status 400

  @rfc6749-10.4 @rfc6749-6
  Scenario: A refresh token is bound to its client
    Given Contacts Web holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When Acme CMS refreshes with Contacts Web's refresh token
    Then the token request is refused with "invalid_grant" and status 400

  @rfc9700-4.14.2
  Scenario: The same refresh token redeemed by several requests at once works once
    Given Contacts Web holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When Contacts Web refreshes its token in 5 requests at once
    Then at most one of them succeeds and the others are refused with "invalid_grant"

  @rfc6749-6 @needs-consent @isolated
  Scenario: After paul revokes his consent, the partner's refresh fails
    Given paul has not yet consented to Acme CMS
    And Acme CMS holds a refresh token of paul for "openid offline_access read:contacts" on the Contacts API
    When paul revokes the consent of Acme CMS
    And Acme CMS refreshes its token
    Then the token request is refused with "invalid_grant" and status 400
