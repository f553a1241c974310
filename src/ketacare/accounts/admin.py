"""Admin for clinics, users and memberships (superusers only; patient data is not exposed here)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from ketacare.accounts.models import ApiToken, Clinic, Membership, User


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0


@admin.register(User)
class KetaCareUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = [MembershipInline]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("slug", "name", "time_zone")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key_hint", "user", "clinic", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("key_hash", "key_hint", "created_at", "last_used_at")
