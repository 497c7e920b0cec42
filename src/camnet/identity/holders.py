"""Whose token is it? A caller may always revoke its own tokens (RFC 7009 lets a holder end
what it holds), whatever its role: a viewer signing out of another device included.
Synchronous: runs on the database thread."""

from __future__ import annotations

from camnet.identity.clients import ClientRepository
from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal
from camnet.identity.tokens import TokenRecord
from camnet.identity.users import UserRepository


def holds(
    caller: Principal, record: TokenRecord, users: UserRepository, clients: ClientRepository
) -> bool:
    """Whether ``record`` was issued to ``caller`` itself (the same user, or the same
    client for its own client-credentials tokens); an API key holds no tokens."""
    if record.subject_kind == "user" and caller.kind == "user":
        user = users.get_by_id(record.subject_id)
        if user is None:
            return False
        shown = user.name if user.account == DEFAULT_ACCOUNT else user.qualified
        return caller.account == user.account and caller.user == shown
    if record.subject_kind == "client" and caller.kind == "client":
        client = clients.get_by_id(record.subject_id)
        return client is not None and caller.user == client.reference
    return False
