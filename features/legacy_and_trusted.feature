Feature: Legacy and trusted grants, for the apps that still need them
  The implicit flow survives in an old single-page app (@legacy), and the password grant only in a
  trusted first-party console (@trusted). Both stay off for everyone else.

  @legacy @needs-implicit @browser @oidc-core-3.2.2.5 @rfc6749-4.2.2
  Scenario: The legacy SPA gets its tokens in the fragment, with the nonce in the ID token
    When paul uses the implicit flow to sign in to Contacts Legacy SPA asking for "openid read:contacts" on the Contacts API
    Then Contacts Legacy SPA receives the tokens in the fragment with the state it sent
    And the ID token's nonce is the one Contacts Legacy SPA sent
    And the ID token's at_hash matches the access token
    And the access token's sub is paul

  @legacy @needs-implicit @oidc-core-3.2.2.1
  Scenario: An implicit request without a nonce is refused
    When Contacts Legacy SPA sends an implicit authorization request for "openid read:contacts" on the Contacts API without a nonce
    Then Contacts Legacy SPA receives the error "invalid_request" with the state it sent

  @trusted @needs-password @rfc6749-4.3.2
  Scenario: The trusted console signs paul in with his password
    When Ops Console signs paul in with his password asking for "read:contacts" on the Contacts API
    Then the token request succeeds
    And the access token's sub is paul
    And the access token's client is Ops Console

  @trusted @needs-password @rfc6749-5.2
  Scenario: A wrong password is refused
    When Ops Console signs paul in with a wrong password asking for "read:contacts" on the Contacts API
    Then the token request is refused with "invalid_grant" and status 400

  @trusted @needs-password @rfc6749-5.2 @rfc9700-2.4
  Scenario: A third-party app may not use the password grant
    When Acme CMS signs paul in with his password asking for "read:contacts" on the Contacts API
    Then the token request is refused with "unauthorized_client" and status 400
