from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Clinics (tenants), users, memberships, roles, the permission table and API tokens."""

    name = "ketacare.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object
        from ketacare.kernel import stored_dates

        register_path_object("membership_id", "accounts.Membership")
        stored_dates.install()
