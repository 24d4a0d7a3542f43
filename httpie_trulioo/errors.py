"""The errors httpie-trulioo raises.

HTTPie prints an error raised while a request is prepared as ``http: error: ClassName: message``,
so each class name reads as the first words of that line. No message ever holds a secret or a
token.
"""


class TruliooError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(TruliooError):
    """A setting, credential or argument is missing or has a bad value."""


class InsecureTokenURL(ConfigurationError):
    """The token URL would send the client secret without TLS to a host that is not loopback."""


class InsecureAPIURL(ConfigurationError):
    """The request would carry the bearer token without TLS to a host that is not loopback."""


class APIHostNotAllowed(ConfigurationError):
    """The request's host is not one the token may be sent to (TRULIOO_API_HOSTS)."""


class TokenRequestFailed(TruliooError):
    """The token endpoint answered, but with an error instead of a token."""


class TokenEndpointUnreachable(TruliooError):
    """The token endpoint could not be reached, or did not answer in time."""


class InvalidTokenResponse(TruliooError):
    """The token endpoint answered 200, but the body is not a usable token response."""


class SecretCommandFailed(ConfigurationError):
    """A profile's secret_cmd could not be run, failed, or printed no secret."""


class PromptCancelled(ConfigurationError):
    """The person at the terminal closed or interrupted the secret prompt, or typed nothing."""


class KeyringUnavailable(TruliooError):
    """The OS keyring cannot be used: the keyring package or a keyring backend is missing."""
