@resource-server @needs-resource-server @needs-client-credentials
Feature: A resource server trusts only the tokens meant for it
  Any URL the provider's tokens protect (the profile's resource_server; the contacts API's /me on
  the reference server) checks a token's signature, algorithm, key and audience before it answers,
  and refuses what fails with 401 and a Bearer challenge.

  @rfc6750-2.1 @rfc9068-4
  Scenario: A valid token for the resource's API is accepted
    Given Acme Sync has a token for the protected resource's API
    When Acme Sync calls the protected resource
    Then the API answers 200

  @rfc6750-3.1
  Scenario: A request without a token is refused with a Bearer challenge
    When someone calls the protected resource without a token
    Then the API answers 401

  @rfc8725-3.1 @rfc6750-3.1
  Scenario Outline: Forged tokens are refused
    Given Acme Sync has a token for the protected resource's API
    When someone calls the protected resource with <forgery>
    Then the API answers 401 with error "invalid_token"

    Examples:
      | forgery                                           |
      | the token with its payload tampered               |
      | the token re-signed with alg none                 |
      | the token re-signed with HS256 and the public key |
      | the token with a kid the JWKS does not have       |

  @rfc9068-4 @rfc8725-3.9
  Scenario Outline: A token for another API is refused
    Given Contacts Importer has a token for the <other API>
    When Contacts Importer calls the protected resource
    Then the API answers 401 with error "invalid_token"

    Examples: the same signing key, another audience; and another key and algorithm
      | other API    |
      | Calendar API |
      | Reports API  |
