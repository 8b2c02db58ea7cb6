@authorization-code @browser @needs-authorization-code
Feature: Users sign in to applications with the authorization code flow and PKCE
  Paul uses Contacts Web, Acme's own app, and enables the Acme CMS integration, a partner's app.
  Both send him through the login page in a real browser; only the partner's app must ask for his
  consent, and it must say who is asking and for what.

  @rfc6749-4.1 @rfc7636-4 @rfc9068-2.2
  Scenario: A first-party app signs paul in without a consent page
    When paul signs in to Contacts Web asking for "openid read:contacts" on the Contacts API
    Then no consent page was shown to the first-party app
    And Contacts Web receives an authorization code with the state it sent
    When Contacts Web exchanges the code for tokens
    Then the token request succeeds
    And the access token's sub is paul
    And the access token's client is Contacts Web
    And the access token's scope is exactly "openid read:contacts"
    And the access token's aud is the identifier of the Contacts API
    And the access token's iss is the target's issuer
    And the access token's header typ is "at+jwt"
    And the access token expires after the Contacts API's token lifetime
    And the access token's signature verifies with the JWKS key named by its kid

  @oidc-core-3.1.3.7 @oidc-core-3.1.3.6
  Scenario: The ID token names the user, the app and the nonce
    When paul signs in to Contacts Web asking for "openid profile read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    Then the token request succeeds
    And the ID token's signature verifies with the JWKS key named by its kid
    And the ID token's sub is paul
    And the ID token's aud is the client id of Contacts Web
    And the ID token's iss is the target's issuer
    And the ID token's nonce is the one Contacts Web sent
    And the ID token's at_hash, when it has one, matches the access token

  @rfc6749-4.1.1 @rfc6749-10.2 @needs-consent @isolated
  Scenario: A third-party app shows a consent page naming the app and every scope
    Given paul has not yet consented to Acme CMS
    When paul enables Acme CMS asking for "openid read:contacts update:contacts" on the Contacts API
    Then the consent page names Acme CMS and describes every requested scope
    When paul allows the request
    Then Acme CMS receives an authorization code with the state it sent
    When Acme CMS exchanges the code for tokens
    Then the token request succeeds
    And the access token's sub is paul
    And the access token's client is Acme CMS
    And the access token's scope is exactly "openid read:contacts update:contacts"

  @rfc6749-4.1.2.1 @needs-consent @isolated
  Scenario: Denying consent sends access_denied back with the same state
    Given paul has not yet consented to Acme CMS
    When paul enables Acme CMS asking for "read:contacts" on the Contacts API
    And paul denies the request
    Then Acme CMS receives the error "access_denied" with the state it sent

  @oidc-core-3.1.2.4 @needs-consent @isolated
  Scenario: A remembered consent is not asked again
    Given paul has not yet consented to Acme CMS
    And paul has enabled Acme CMS with "read:contacts" on the Contacts API
    When paul enables Acme CMS asking for "read:contacts" on the Contacts API
    Then no consent page was shown
    And Acme CMS receives an authorization code with the state it sent

  @oidc-core-3.1.2.4 @needs-consent @isolated
  Scenario: Asking for a new scope asks for consent again
    Given paul has not yet consented to Acme CMS
    And paul has enabled Acme CMS with "read:contacts" on the Contacts API
    When paul enables Acme CMS asking for "read:contacts update:contacts" on the Contacts API
    Then the consent page names Acme CMS and describes "update:contacts"

  @oidc-core-3.1.2.6
  Scenario: prompt=none without a session answers login_required
    When Contacts Web sends a browser with no session to authorize with prompt=none asking for "openid read:contacts" on the Contacts API
    Then Contacts Web receives the error "login_required" with the state it sent
    And no login page was shown

  @rfc7636-4.5 @rfc6749-2.1
  Scenario: A public client proves possession of its code with PKCE
    When paul signs in to Contacts SPA asking for "openid read:contacts" on the Contacts API
    Then Contacts SPA receives an authorization code with the state it sent
    When Contacts SPA exchanges the code for tokens
    Then the token request succeeds
    And the access token's client is Contacts SPA

  @rfc6750-2.1 @contacts-api @needs-contacts-api
  Scenario: Paul's token reads the contacts of his own account
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    And Contacts Web reads the contacts of account "globex"
    Then the API answers 200

  @rfc6750-3.1 @contacts-api @needs-contacts-api
  Scenario: Paul's token cannot read another account
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    And Contacts Web reads the contacts of account "initech"
    Then the API answers 403

  @rfc6750-3.1 @contacts-api @needs-contacts-api
  Scenario: Paul's read-only token cannot write
    When paul signs in to Contacts Web asking for "read:contacts" on the Contacts API
    And Contacts Web exchanges the code for tokens
    And Contacts Web adds a contact to account "globex"
    Then the API answers 403 with error "insufficient_scope"
