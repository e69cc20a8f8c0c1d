"""CRM users and the permission settings that produce NO_PERMISSION, AUTHORIZATION_FAILED and
INVALID_MODULE (no tab permission).

Every token acts for one user; the concurrency cap is counted per (user, client_id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


class Permissions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a user may do; the defaults are an administrator's."""

    #: False -> NO_PERMISSION 403 on PUT ("Permission denied to update records").
    update_related: bool = True
    #: False -> NO_PERMISSION 403 on GET ("Permission denied to read related records").
    read_related: bool = True
    #: False -> NO_PERMISSION 403 on DELETE ("Permission denied to delete records").
    delink_related: bool = True
    #: False -> AUTHORIZATION_FAILED 400 "User does not have sufficient privilege ..." (any method).
    related_privilege: bool = True
    #: Modules the user has no tab permission on -> INVALID_MODULE (or, as related list, INVALID_DATA).
    modules_denied: list[str] = msgspec.field(default_factory=list)


@dataclass(slots=True)
class User:
    """A CRM user as ``GET /crm/{v}/users?type=CurrentUser`` describes it."""

    id: str
    email: str
    full_name: str
    profile: str = "Administrator"
    role: str = "CEO"
    permissions: Permissions = field(default_factory=Permissions)
    denied: frozenset[str] = frozenset()

    def set_permissions(self, permissions: Permissions) -> None:
        """Replace the permissions (and the derived set of hidden modules)."""
        self.permissions = permissions
        # Aliases such as Potentials hide the canonical module too.
        self.denied = frozenset("Deals" if m == "Potentials" else m for m in permissions.modules_denied)

    def to_dict(self) -> dict[str, Any]:
        """Admin-API view."""
        return {
            "id": self.id,
            "email": self.email,
            "full_name": self.full_name,
            "profile": self.profile,
            "role": self.role,
            "permissions": msgspec.to_builtins(self.permissions),
        }

    def to_crm(self, org_id: str) -> dict[str, Any]:
        """The user as the CRM users API shows it."""
        first, _, last = self.full_name.partition(" ")
        return {
            "id": self.id,
            "full_name": self.full_name,
            "first_name": first,
            "last_name": last or first,
            "email": self.email,
            "status": "active",
            "confirm": True,
            "role": {"name": self.role, "id": f"{org_id[:7]}000000015969"},
            "profile": {"name": self.profile, "id": f"{org_id[:7]}000000015972"},
            "country": "US",
            "locale": "en_US",
            "time_zone": "America/Los_Angeles",
            "language": "en_US",
            "zuid": f"6{self.id[-9:]}",
        }


class UserDirectory:
    """All users, by id."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self._next = 1

    def _new_id(self) -> str:
        while True:
            candidate = f"4150868{self._next:012d}"
            self._next += 1
            if candidate not in self.users:
                return candidate

    def upsert(
        self,
        user_id: str | None = None,
        *,
        email: str | None = None,
        full_name: str | None = None,
        profile: str | None = None,
        role: str | None = None,
        permissions: Permissions | None = None,
    ) -> User:
        """Create a user, or update the given fields of an existing one."""
        uid = user_id or self._new_id()
        user = self.users.get(uid)
        if user is None:
            user = User(
                id=uid,
                email=email or f"user{uid[-4:]}@zylker.example",
                full_name=full_name or f"Emulated User {uid[-4:]}",
            )
            self.users[uid] = user
        else:
            user.email = email or user.email
            user.full_name = full_name or user.full_name
        user.profile = profile or user.profile
        user.role = role or user.role
        if permissions is not None:
            user.set_permissions(permissions)
        return user

    def get(self, user_id: str) -> User | None:
        """The user, or None."""
        return self.users.get(user_id)
