@client-certification
Feature: A partner's integration does the OAuth dance right
  A user clicks "Enable integration" in the partner's app. The harness is the authorization server,
  the contacts API and the user: it reads what the app sends and says, check by check, whether the
  app may go live.

  @rfc6749-4.1.1 @rfc7636-4.3 @rfc9700-2.1.1
  Scenario: The authorization request asks for a code with PKCE and a registered redirect URI
    Given the user has not yet enabled the app
    When the user enables the integration and allows it
    Then the app's authorization request asked for response_type "code"
    And the app's authorization request used PKCE with S256
    And the app's authorization request used its registered redirect URI
    And the app's authorization request asked for offline_access if it syncs in the background
    And the app shows that the integration is enabled

  @rfc6749-10.12 @rfc9700-4.7.1
  Scenario: Every authorization request carries a new, unguessable state
    Given the user has not yet enabled the app
    When the user enables the integration and allows it
    And the user enables the integration again and allows it
    Then the app's two authorization requests carried different unguessable states

  @rfc6749-4.1.3 @rfc7636-4.5 @rfc6749-2.3.1
  Scenario: The code is exchanged once, with client authentication and the code_verifier
    Given the user has not yet enabled the app
    When the user enables the integration and allows it
    Then the app redeemed its code exactly once
    And the app authenticated to the token endpoint with its client secret
    And the app sent the code_verifier with the code

  @rfc6749-4.1.2.1
  Scenario: Denying access gets a clear message, not a crash
    Given the user has not yet enabled the app
    When the user enables the integration and denies it
    Then the app shows an error message
    And the app is still up

  @rfc6750-2.1 @rfc9700-4.3.2 @needs-sync
  Scenario: API calls carry the token in the Authorization header, within scope and account
    Given the user has not yet enabled the app
    When the user enables the integration and allows it
    And the app syncs in the background
    Then the app called the API
    And every API call of the app carried its token in the Authorization header
    And no API call of the app was refused

  @rfc6749-6 @rfc9700-4.14.2 @needs-sync
  Scenario: When access tokens expire, the app refreshes with the rotated refresh token
    Given the harness issues the app access tokens that live 1 second
    And the user has not yet enabled the app
    When the user enables the integration and allows it
    And the app syncs in the background after its access token expired
    And the app syncs in the background after its access token expired
    Then the app refreshed its token at least twice
    And every refresh of the app was accepted
    And no API call of the app was refused

  @rfc6749-6 @rfc6749-5.2 @needs-sync
  Scenario: When the user revokes consent, the app stops without retrying in a loop
    Given the harness issues the app access tokens that live 1 second
    And the user has not yet enabled the app
    When the user enables the integration and allows it
    And the user revokes the app's access
    And the app syncs in the background after its access token expired
    And the app syncs in the background 3 more times
    Then the app's refresh was refused with "invalid_grant"
    And the app made at most 1 more token request after that refusal

  @oidc-core-3.1.3.7 @needs-id-token
  Scenario Outline: The app rejects a bad ID token
    Given the harness gives the app ID tokens with <fault>
    And the user has not yet enabled the app
    When the user enables the integration and allows it
    Then the app shows an error message
    And the app did not call the API

    Examples:
      | fault         |
      | wrong-nonce   |
      | wrong-iss     |
      | wrong-aud     |
      | bad-signature |

  @rfc6749-5.2 @rfc9110-15.6.4
  Scenario: Transient errors of the token endpoint are retried with back-off
    Given the token endpoint answers the app's next 2 requests with 503
    And the user has not yet enabled the app
    When the user enables the integration and allows it
    Then the app retried the token request with back-off

  @rfc6749-5.1
  Scenario: A slow token endpoint does not break the integration
    Given the token endpoint answers the app's next request after 2 seconds
    And the user has not yet enabled the app
    When the user enables the integration and allows it
    Then the app's code redemption succeeded
