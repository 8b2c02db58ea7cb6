@userinfo @needs-userinfo
Feature: The userinfo endpoint tells an app who signed in
  Only a user's token with the openid scope gets the user's claims.

  @oidc-core-5.3 @browser @needs-authorization-code
  Scenario: Userinfo names the signed-in user
    When paul signs in to Contacts Web asking for "openid profile"
    And Contacts Web exchanges the code for tokens
    And Contacts Web calls userinfo with the access token
    Then the userinfo endpoint answers 200 with the sub of paul

  @oidc-core-5.3.3 @rfc6750-3.1
  Scenario: Userinfo without a token is refused
    When someone calls userinfo without a token
    Then the userinfo endpoint refuses the request with a Bearer challenge

  @oidc-core-5.3.3 @needs-client-credentials
  Scenario: An app's own token gets no userinfo
    Given Acme Sync has a token for the Contacts API
    When Acme Sync calls userinfo with its access token
    Then the userinfo endpoint refuses it with 401 or 403
