"""The local OIDC provider fixtures (tests/access/test_oidc.py), for every access test."""

from tests.access.test_oidc import other_key, provider, signing_key, verifier

__all__ = ["other_key", "provider", "signing_key", "verifier"]
