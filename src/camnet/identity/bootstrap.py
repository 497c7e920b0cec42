"""First start: create ``admin`` and ``API-User`` with random (or operator-given) secrets."""

from __future__ import annotations

from dataclasses import dataclass

from camnet.identity.permissions import Role
from camnet.identity.users import ADMIN_USER, API_USER, UserRepository, generate_secret


@dataclass(frozen=True, slots=True)
class InitialCredentials:
    """Secrets created on this start, to be shown to the operator exactly once."""

    admin_password: str | None
    api_token: str | None
    generated: bool
    admin_generated: bool = False
    token_generated: bool = False

    @property
    def any(self) -> bool:
        return self.admin_password is not None or self.api_token is not None


def ensure_initial_users(
    users: UserRepository,
    admin_password: str | None,
    api_token: str | None,
    admin_email: str | None = "admin@localhost",
) -> InitialCredentials:
    """Create the two c2 users if missing; given secrets are used only at creation."""
    created_admin = created_token = None
    generated = False
    if users.get(ADMIN_USER) is None:
        created_admin = admin_password or generate_secret()
        generated = generated or admin_password is None
        users.create(ADMIN_USER, Role.ADMIN, created_admin, email=admin_email)
    if users.get(API_USER) is None:
        created_token = api_token or generate_secret()
        generated = generated or api_token is None
        users.create(API_USER, Role.API, created_token)
    return InitialCredentials(
        created_admin,
        created_token,
        generated,
        admin_generated=created_admin is not None and admin_password is None,
        token_generated=created_token is not None and api_token is None,
    )
