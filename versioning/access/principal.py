"""Who a request or a job acts as, however it proved it (API key, OIDC token, local admin)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """A team (maybe one of its members), or an admin. `credential` says how it was proved, for
    the audit log: `key:<prefix>`, `oidc:<subject>`, `local` (loopback, `serve --local-admin`) or
    `cli` (the operator's own command line)."""

    team_id: int | None
    team: str | None
    member_id: int | None
    member: str | None
    admin: bool
    credential: str

    @property
    def name(self) -> str:
        """How the audit log names the actor: `team/member`, `team`, or `admin`."""
        if self.team is None:
            return "admin"
        return f"{self.team}/{self.member}" if self.member else self.team


LOCAL_ADMIN = Principal(None, None, None, None, True, "local")
OPERATOR = Principal(None, None, None, None, True, "cli")
# Reads nothing, writes nothing: what serves the GraphiQL page, which runs no operation.
NOBODY = Principal(None, None, None, None, False, "none")
