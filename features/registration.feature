@registration @needs-registration
Feature: Partners register their apps dynamically
  A partner registers its integration at the registration endpoint (RFC 7591). A registered app is
  a third party: users see a consent page before it gets anything.

  @rfc7591-3.2.1
  Scenario: A partner registers an app and gets a client id and secret
    When a partner registers "Globex CRM" with the redirect URI "https://crm.globex.example/oauth/callback"
    Then the registration succeeds with a client id and secret

  @rfc7591-3.2.2 @rfc7591-2
  Scenario: A redirect URI with a fragment is refused
    When a partner registers "Globex CRM" with the redirect URI "https://crm.globex.example/oauth/callback#here"
    Then the registration is refused with "invalid_redirect_uri"

  @rfc7591-3.2.1 @rfc6749-10.2 @browser @needs-consent @needs-authorization-code
  Scenario: Users must consent to a registered app
    Given a partner registers "Globex CRM" with the redirect URI "https://crm.globex.example/oauth/callback"
    When paul enables Globex CRM asking for "read:contacts" on the Contacts API
    Then the consent page names Globex CRM and describes every requested scope
    When paul allows the request
    And Globex CRM exchanges the code for tokens
    Then the token request succeeds
    And the access token's client is Globex CRM
