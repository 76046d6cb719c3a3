"""Admin building blocks shared by every app."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Shown, never added, changed or removed in the admin: rows that other actions make."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
