@authorization-errors @needs-authorization-code
Feature: Authorization requests that must be refused
  A bad authorization request is answered at the client's redirect URI with an error and the state
  it sent, unless the redirect URI itself is wrong: then the server shows its own error page and
  sends the browser nowhere, or it would be an open redirector.

  @rfc6749-4.1.2.1 @rfc6749-3.3 @browser
  Scenario: An unknown scope is refused, or left out of what is granted
    When paul signs in to Contacts Web asking for "read:contacts read:everything" on the Contacts API
    Then Contacts Web is refused with "invalid_scope" or granted no "read:everything"

  @rfc7636-4.4.1 @rfc9700-2.1.1
  Scenario: A public client without PKCE is refused
    When Contacts SPA sends an authorization request for "read:contacts" on the Contacts API without PKCE
    Then Contacts SPA receives the error "invalid_request" with the state it sent

  @rfc7636-4.2 @rfc9700-2.1.1
  Scenario: The plain PKCE method is refused
    When Contacts SPA sends an authorization request for "read:contacts" on the Contacts API with code_challenge_method plain
    Then Contacts SPA receives the error "invalid_request" with the state it sent

  @rfc6749-3.1.2.4 @rfc9700-4.1.3
  Scenario Outline: A redirect URI that is not registered gets an error page and no redirect
    When Contacts Web sends an authorization request for "read:contacts" on the Contacts API with <redirect>
    Then the authorization server answers with its error page and no redirect

    Examples:
      | redirect                                                        |
      | the redirect URI "https://attacker.example/callback"            |
      | its redirect URI followed by "/../../attacker"                  |
      | its redirect URI followed by "?next=https://attacker.example/"  |

  @rfc6749-4.1.2.1 @rfc9700-4.1.3 @browser
  Scenario: In the browser, a wrong redirect URI shows an error and never redirects
    When paul opens Contacts Web's authorization request with the redirect URI "https://attacker.example/callback"
    Then the browser shows the authorization server's error page
    And nothing was sent to "https://attacker.example/callback"
