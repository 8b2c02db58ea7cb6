@security-bcp @browser @needs-authorization-code
Feature: The OAuth 2.0 Security Best Current Practice (RFC 9700)
  The defences a modern authorization server owes its clients: PKCE bound to the code, one-time
  codes bound to their client, the issuer named in every authorization response, and no race that
  turns one code into two sets of tokens.

  @rfc9207-2 @rfc9700-4.4.2
  Scenario: The authorization response names the issuer
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    Then Contacts Web receives an authorization code with the state it sent
    And the authorization response's iss is the target's issuer

  @rfc7636-4.6 @rfc9700-2.1.1
  Scenario: A wrong PKCE verifier is refused
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens with a wrong code_verifier
    Then the token request is refused with "invalid_grant" and status 400

  @rfc9700-4.8.2
  Scenario: PKCE downgrade: a code issued without a challenge is not redeemed with a verifier
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API without PKCE
    Then Contacts Web's code issued without a challenge is not redeemed with a code_verifier

  @rfc6749-4.1.2 @rfc6749-4.1.3
  Scenario: An authorization code is redeemed only once
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    Then the token request succeeds
    When Contacts Web exchanges the same code again
    Then the token request is refused with "invalid_grant" and status 400

  @rfc6749-4.1.2 @rfc6819-5.2.1.1 @contacts-api @needs-contacts-api
  Scenario: An authorization code is used once, and a replay revokes what it gave
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    Then the token request succeeds
    When Contacts Web exchanges the same code again
    Then the token request is refused with "invalid_grant" and status 400
    And the access token from the first exchange no longer reads account "globex"

  @rfc6749-4.1.3 @rfc9700-4.5
  Scenario: A code is bound to the client it was issued to
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Acme CMS exchanges Contacts Web's code for tokens
    Then the token request is refused with "invalid_grant" and status 400

  @rfc6749-4.1.2 @rfc9700-4.5
  Scenario: The same code redeemed by several requests at once gives tokens once
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web redeems the code in 5 requests at once
    Then at most one of them succeeds and the others are refused with "invalid_grant"
