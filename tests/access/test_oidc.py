"""OIDC bearer tokens, checked against a JWKS this test serves itself on loopback: valid tokens
name a team member (added on first login); every forged, misdirected or stale token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import Connection

from trainingdb.server.oidc import OidcVerifier
from trainingdb.server.settings import OidcSettings, Settings, SettingsError
from trainingdb.versioning.access import identities
from trainingdb.versioning.errors import UnauthenticatedError

ISSUER = "https://idp.example.test/realms/ml"
AUDIENCE = "trainingdb"
KID = "key-1"
NOT_VALID = r"^the token is not valid$"
UNREACHABLE = r"^the identity provider's signing keys could not be fetched"

Claims = dict[str, Any]


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class Provider:
    """A JWKS endpoint on 127.0.0.1: serves `body` (the JWKS unless a test spoils it)."""

    url: str
    key: rsa.RSAPrivateKey
    body: bytes
    hits: list[str] = field(default_factory=list)

    def token(self, claims: Claims, *, kid: str = KID, key: rsa.RSAPrivateKey | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(signing_key: rsa.RSAPrivateKey) -> Iterator[Provider]:
    state: list[Provider] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served = state[0]
            served.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    jwks = json.dumps({"keys": [_jwk(signing_key, KID)]}).encode()
    state.append(Provider(f"http://127.0.0.1:{port}/jwks", signing_key, jwks))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state[0]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def verifier(provider: Provider) -> OidcVerifier:
    return OidcVerifier(OidcSettings(ISSUER, AUDIENCE, provider.url))


@pytest.fixture
def team(conn: Connection) -> identities.TeamRow:
    return identities.create_team(conn, "vision")


def claims(**changes: Any) -> Claims:
    """Good claims for member ada of team vision, with `changes` (None removes a claim)."""
    now = int(time.time())
    base: Claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "0f3c-ada",
        "iat": now,
        "exp": now + 300,
        "trainingdb_team": "vision",
        "preferred_username": "ada",
        "email": "ada@example.com",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: Claims, payload: Claims, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def _hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def test_a_valid_token_names_its_member_added_on_first_login(
    conn: Connection, team: identities.TeamRow, provider: Provider, verifier: OidcVerifier
) -> None:
    first = verifier.principal(conn, provider.token(claims()))
    assert (first.team_id, first.team, first.member) == (team.id, "vision", "ada")
    assert not first.admin
    assert first.credential == "oidc:0f3c-ada"
    assert first.name == "vision/ada"
    stored = identities.get_member(conn, team.id, "ada")
    assert (stored.id, stored.email) == (first.member_id, "ada@example.com")
    again = verifier.principal(conn, provider.token(claims()))
    assert again == first
    assert provider.hits == ["/jwks"]  # the key set was fetched once, then cached


def test_an_existing_member_is_found_not_added(
    conn: Connection, team: identities.TeamRow, provider: Provider, verifier: OidcVerifier
) -> None:
    made = identities.add_member(conn, "vision", "ada", None)
    principal = verifier.principal(conn, provider.token(claims()))
    assert principal.member_id == made.id
    assert identities.get_member(conn, team.id, "ada").email is None


def test_claim_names_come_from_settings(
    conn: Connection, team: identities.TeamRow, provider: Provider
) -> None:
    settings = OidcSettings(ISSUER, AUDIENCE, provider.url, "groups_team", "email")
    verifier = OidcVerifier(settings)
    token = provider.token(claims(groups_team="vision", trainingdb_team=None))
    assert verifier.principal(conn, token).member == "ada@example.com"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-app"}, id="wrong audience"),
        pytest.param({"iss": "https://evil.example.test"}, id="wrong issuer"),
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"exp": None}, id="no expiry"),
        pytest.param({"sub": None}, id="no subject"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not yet valid"),
        pytest.param({"trainingdb_team": None}, id="no team claim"),
        pytest.param({"trainingdb_team": ["vision"]}, id="team claim not a string"),
        pytest.param({"trainingdb_team": "audio"}, id="unknown team"),
        pytest.param({"preferred_username": None}, id="no member claim"),
        pytest.param({"preferred_username": "  "}, id="blank member"),
    ],
)
def test_misdirected_or_incomplete_tokens_are_refused_alike(
    conn: Connection,
    team: identities.TeamRow,
    provider: Provider,
    verifier: OidcVerifier,
    changes: Claims,
) -> None:
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):
        verifier.principal(conn, provider.token(claims(**changes)))


def test_expiry_allows_some_clock_skew_and_no_more(
    conn: Connection, team: identities.TeamRow, provider: Provider, verifier: OidcVerifier
) -> None:
    now = int(time.time())
    verifier.principal(conn, provider.token(claims(exp=now - 10)))
    with pytest.raises(UnauthenticatedError, match=r"^the token has expired$"):
        verifier.principal(conn, provider.token(claims(exp=now - 120)))


def test_tokens_signed_by_another_key_are_refused(
    conn: Connection,
    team: identities.TeamRow,
    provider: Provider,
    verifier: OidcVerifier,
    other_key: rsa.RSAPrivateKey,
) -> None:
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):  # a kid the JWKS lacks
        verifier.principal(conn, provider.token(claims(), kid="key-2", key=other_key))
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):  # the right kid, the wrong key
        verifier.principal(conn, provider.token(claims(), key=other_key))
    head, _, signature = provider.token(claims()).split(".")
    forged = _b64(json.dumps(claims(preferred_username="root")).encode())
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):  # a tampered payload
        verifier.principal(conn, f"{head}.{forged}.{signature}")


def test_unsigned_and_symmetric_tokens_are_refused(
    conn: Connection, team: identities.TeamRow, provider: Provider, verifier: OidcVerifier
) -> None:
    none = _unsigned({"alg": "none", "typ": "JWT", "kid": KID}, claims(), lambda _: b"")
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):
        verifier.principal(conn, none)
    # Algorithm confusion: an HMAC keyed with the public key, which anyone can read.
    public_pem = provider.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (public_pem, provider.body):
        confused = _unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": KID},
            claims(),
            _hs256(secret),
        )
        with pytest.raises(UnauthenticatedError, match=NOT_VALID):
            verifier.principal(conn, confused)
    # The key set is never even fetched for a token whose header is already wrong.
    assert provider.hits == []


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "e30.e30.", "Bearer x.y.z"])
def test_malformed_tokens_are_refused(
    conn: Connection, provider: Provider, verifier: OidcVerifier, token: str
) -> None:
    with pytest.raises(UnauthenticatedError, match=NOT_VALID):
        verifier.principal(conn, token)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_provider_is_said_plainly(
    conn: Connection, team: identities.TeamRow, provider: Provider
) -> None:
    down = OidcVerifier(OidcSettings(ISSUER, AUDIENCE, f"http://127.0.0.1:{closed_port()}/jwks"))
    with pytest.raises(UnauthenticatedError, match=UNREACHABLE) as error:
        down.principal(conn, provider.token(claims()))
    assert error.value.__cause__ is None
    assert error.value.__suppress_context__


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[]", b'{"keys": []}'])
def test_a_provider_serving_no_key_set_is_said_plainly(
    conn: Connection, team: identities.TeamRow, provider: Provider, body: bytes
) -> None:
    token = provider.token(claims())
    provider.body = body
    verifier = OidcVerifier(OidcSettings(ISSUER, AUDIENCE, provider.url))
    with pytest.raises(UnauthenticatedError, match=UNREACHABLE):
        verifier.principal(conn, token)


OIDC_ENV = {
    "TRAININGDB_OIDC_ISSUER": ISSUER,
    "TRAININGDB_OIDC_AUDIENCE": AUDIENCE,
    "TRAININGDB_OIDC_JWKS_URL": "https://idp.example.test/realms/ml/certs",
}


def test_settings_without_oidc() -> None:
    assert Settings.resolve(environ={}).oidc is None


def test_settings_with_oidc() -> None:
    assert Settings.resolve(environ=OIDC_ENV).oidc == OidcSettings(
        ISSUER,
        AUDIENCE,
        "https://idp.example.test/realms/ml/certs",
        "trainingdb_team",
        "preferred_username",
    )
    custom = Settings.resolve(
        environ={
            **OIDC_ENV,
            "TRAININGDB_OIDC_TEAM_CLAIM": "team",
            "TRAININGDB_OIDC_MEMBER_CLAIM": "email",
        }
    ).oidc
    assert custom is not None
    assert (custom.team_claim, custom.member_claim) == ("team", "email")


@pytest.mark.parametrize("missing", sorted(OIDC_ENV))
def test_partial_oidc_settings_name_what_is_missing(missing: str) -> None:
    env = {name: value for name, value in OIDC_ENV.items() if name != missing}
    with pytest.raises(SettingsError, match=rf"^OIDC needs {missing} as well") as error:
        Settings.resolve(environ=env).oidc  # noqa: B018
    assert "\n" not in str(error.value)
    only = {"TRAININGDB_OIDC_ISSUER": ISSUER}
    with pytest.raises(SettingsError, match="TRAININGDB_OIDC_AUDIENCE, TRAININGDB_OIDC_JWKS_URL"):
        Settings.resolve(environ=only).oidc  # noqa: B018


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://idp.example.test/certs", "use https"),
        ("file:///etc/passwd", "is not an http"),
        ("certs.json", "is not an http"),
    ],
)
def test_jwks_url_must_be_https_unless_loopback(url: str, message: str) -> None:
    env = {**OIDC_ENV, "TRAININGDB_OIDC_JWKS_URL": url}
    with pytest.raises(SettingsError, match=rf"^TRAININGDB_OIDC_JWKS_URL: .*{message}"):
        Settings.resolve(environ=env).oidc  # noqa: B018
    loopback = {**OIDC_ENV, "TRAININGDB_OIDC_JWKS_URL": "http://127.0.0.1:8080/certs"}
    assert Settings.resolve(environ=loopback).oidc is not None
