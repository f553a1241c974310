from django.apps import AppConfig


class LedgerConfig(AppConfig):
    """The controlled-substance ledger: stock, movements, draws, counts, reports."""

    name = "ketacare.ledger"
    label = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ketacare.accounts.tenancy import register_path_object

        register_path_object("container_id", "ledger.Container")
        register_path_object("draw_id", "ledger.Draw")
        register_path_object("discrepancy_id", "ledger.Discrepancy")
        register_path_object("count_id", "ledger.Count")
        register_path_object("entry_id", "ledger.LedgerEntry")
        register_path_object("theft_loss_id", "ledger.TheftLoss")
