"""The controlled-substance ledger: registrations, places, products, lots, containers and entries.

Every movement is a `LedgerEntry`: append-only, hash-chained per clinic, carrying the running
balance of its container and of its product at its registered location. Balances never go
below zero (database constraints here, rules in `ketacare.clinical.ledger`).
"""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.models import ChainedQuerySet, ChainedRecord
from ketacare.clinical.ledger import Unit
from ketacare.patients.models import Patient


class Registration(models.Model):
    """The clinic's DEA registration for one registered location (21 CFR 1304.21: per location)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    name = models.CharField(max_length=200, help_text="The registered location's name.")
    address = models.TextField()
    dea_number = models.CharField(max_length=9)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "dea_number"], name="dea_number_unique"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.dea_number})"


class StorageKind(models.TextChoices):
    """Where stock is kept."""

    SAFE = "safe", "Safe"
    CABINET = "cabinet", "Locked cabinet"
    REFRIGERATOR = "refrigerator", "Locked refrigerator"


class StorageLocation(models.Model):
    """A safe or locked cabinet at a registered location."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="storage")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=StorageKind.choices)

    def __str__(self) -> str:
        return f"{self.name} ({self.registration.name})"


class ContainerKind(models.TextChoices):
    """What a container is."""

    VIAL = "vial", "Vial"
    BAG = "bag", "Bag"
    DEVICE = "device", "Nasal device"
    BOTTLE = "bottle", "Bottle"


class Product(models.Model):
    """A controlled product by NDC, counted in one unit."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    ndc = models.CharField("NDC", max_length=13)
    name = models.CharField(max_length=200)
    substance = models.CharField(max_length=40, help_text="ketamine or esketamine")
    form = models.CharField(max_length=60, help_text="e.g. injection solution, nasal spray")
    strength = models.CharField(max_length=60, help_text="As labelled, e.g. 50 mg/mL")
    schedule = models.CharField(max_length=4, default="III")
    unit = models.CharField(max_length=10, choices=[(u.value, u.value) for u in Unit])
    mg_per_unit = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="mg in one mL, device or lozenge; empty when counted in mg.",
    )
    concentration_mg_per_ml = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True
    )
    container_kind = models.CharField(max_length=10, choices=ContainerKind.choices)
    container_size = models.DecimalField(
        max_digits=18, decimal_places=3, help_text="One container's content, in the unit."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "ndc"], name="product_ndc_unique"),
            models.CheckConstraint(
                condition=models.Q(container_size__gt=0), name="product_size_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit="mg") | models.Q(mg_per_unit__gt=0),
                name="product_strength_known_unless_mg",
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.strength} (NDC {self.ndc})"


class Lot(models.Model):
    """A manufacturer's lot with its expiry date."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(max_length=64)
    expires_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="lot_unique_per_product"),
        ]

    def __str__(self) -> str:
        return f"lot {self.number} (exp. {self.expires_on:%Y-%m-%d})"


class ContainerStatus(models.TextChoices):
    """Where a container is in its life."""

    SEALED = "sealed", "Sealed"
    OPEN = "open", "Opened"
    EMPTY = "empty", "Empty"
    GONE = "gone", "Destroyed, lost or returned"


class Container(models.Model):
    """One vial, bag, device or bottle; its balance is the latest entry's, kept under a row lock."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="containers")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="containers")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT)
    storage = models.ForeignKey(StorageLocation, on_delete=models.PROTECT)
    label = models.CharField(max_length=64, help_text="The clinic's number or the device serial.")
    status = models.CharField(
        max_length=10, choices=ContainerStatus.choices, default=ContainerStatus.SEALED
    )
    balance = models.DecimalField(max_digits=18, decimal_places=3)
    blocked = models.BooleanField(
        default=False, help_text="An open discrepancy holds the container until resolved."
    )
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="container_balance_not_negative"
            ),
            models.UniqueConstraint(fields=["clinic", "label"], name="container_label_unique"),
        ]
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label}: {self.product.name}, {self.lot}"


class StockBalance(models.Model):
    """The running balance of one product at one registered location, locked with the container."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    balance = models.DecimalField(max_digits=18, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "product"], name="one_stock_balance_per_place"
            ),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="stock_balance_not_negative"
            ),
        ]


class Receipt(models.Model):
    """A delivery received: supplier, address and DEA number, invoice, date (21 CFR 1304.22(c))."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT)
    supplier_name = models.CharField(max_length=200)
    supplier_address = models.TextField()
    supplier_dea = models.CharField(max_length=9)
    invoice = models.CharField(max_length=64)
    received_on = models.DateField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.supplier_name} invoice {self.invoice}"


class Draw(models.Model):
    """An amount drawn for a dose; closed when drawn = given + wasted + returned."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="draws")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    # The treatment session the dose is for; the ledger names it without depending on treatment.
    session_id = models.BigIntegerField(db_index=True)
    unit = models.CharField(max_length=10)
    drawn = models.DecimalField(max_digits=18, decimal_places=3)
    administered = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    wasted = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    returned = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(drawn__gt=0), name="draw_positive"),
            models.CheckConstraint(
                condition=models.Q(administered__gte=0, wasted__gte=0, returned__gte=0),
                name="draw_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    drawn__gte=models.F("administered") + models.F("wasted") + models.F("returned")
                ),
                name="draw_never_over_accounted",
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True)
                | models.Q(
                    drawn=models.F("administered") + models.F("wasted") + models.F("returned")
                ),
                name="closed_draw_balances",
            ),
        ]
        ordering = ["-drawn_at", "-id"]

    def __str__(self) -> str:
        return f"{self.drawn} {self.unit} from {self.container.label}"

    @property
    def remainder(self) -> str:
        """What is drawn but not yet administered, wasted or returned, with its unit."""
        left = self.drawn - self.administered - self.wasted - self.returned
        return f"{left.normalize():f} {self.unit}"


class EntryKind(models.TextChoices):
    """The kind of movement an entry records."""

    RECEIPT = "receipt", "Receipt"
    OPENING = "opening", "Opening balance"
    DRAW = "draw", "Draw"
    ADMINISTRATION = "administration", "Administration"
    DISPENSING = "dispensing", "Dispensed for home use"
    WASTE = "waste", "Waste"
    RETURN = "return", "Return to stock"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    DESTRUCTION = "destruction", "Destruction"
    REVERSE_DISTRIBUTOR = "reverse_distributor", "To a reverse distributor"
    THEFT_LOSS = "theft_loss", "Theft or loss"
    ADJUSTMENT = "adjustment", "Adjustment after a count"
    CORRECTION = "correction", "Correction"


class LedgerEntryQuerySet(ChainedQuerySet):
    """Ledger entries: append-only like every chained record."""


class LedgerEntry(ChainedRecord):
    """One movement: who, when, why, how much, and the balances after it; never changed.

    Chained per clinic (`clinic:<id>`) with the shared keyed mechanism, so `ketacare audit
    verify` and `ketacare ledger verify` both find an altered, removed or inserted entry.
    """

    CHAIN_KIND = "ledger"
    CHAIN_FIELDS = (
        "clinic_id", "kind", "at", "occurred_at", "registration_id", "product_id", "lot_id",
        "container_id", "unit", "amount", "change", "container_balance", "stock_balance",
        "draw_id", "session_id", "patient_id", "dose_mg", "actor_id", "witness_id",
        "second_witness_id", "reason", "detail", "corrects_id", "receipt_id",
    )  # fmt: skip

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    at = models.DateTimeField(help_text="When it was recorded.")
    occurred_at = models.DateTimeField(help_text="When it happened.")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT)
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="entries")
    unit = models.CharField(max_length=10)
    amount = models.DecimalField(
        max_digits=18, decimal_places=3, help_text="How much moved (never negative)."
    )
    change = models.DecimalField(
        max_digits=18, decimal_places=3, help_text="The change to the container's balance."
    )
    container_balance = models.DecimalField(max_digits=18, decimal_places=3)
    stock_balance = models.DecimalField(max_digits=18, decimal_places=3)
    draw = models.ForeignKey(
        Draw, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    session_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose_mg = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain_key", "seq"], name="ledger_seq_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="entry_amount"),
            models.CheckConstraint(
                condition=models.Q(container_balance__gte=0, stock_balance__gte=0),
                name="entry_balances_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(witness=models.F("actor")), name="entry_witness_not_actor"
            ),
            models.CheckConstraint(
                condition=models.Q(corrects__isnull=True) | ~models.Q(reason=""),
                name="correction_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "kind", "occurred_at"], name="ledger_kind_time"),
            models.Index(fields=["container", "seq"], name="ledger_container_seq"),
        ]
        ordering = ["seq"]
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind} {self.amount} {self.unit}"


class DiscrepancyKind(models.TextChoices):
    """What opened a discrepancy."""

    COUNT_VARIANCE = "count_variance", "Count variance"
    LOT_MISMATCH = "lot_mismatch", "Lot or device differs from the draw"
    OTHER = "other", "Other"


class Discrepancy(models.Model):
    """Something that does not add up; it blocks its container until resolved with a reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="discrepancies")
    kind = models.CharField(max_length=20, choices=DiscrepancyKind.choices)
    description = models.TextField()
    expected = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    found = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(blank=True)
    adjustment = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True) | ~models.Q(resolution=""),
                name="resolution_has_reason",
            ),
        ]
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "discrepancies"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.container.label}"


class CountKind(models.TextChoices):
    """Which inventory a count is (21 CFR 1304.11) or a shift count (clinic policy)."""

    INITIAL = "initial", "Initial inventory"
    BIENNIAL = "biennial", "Biennial inventory"
    SHIFT = "shift", "Shift count"


class CountTiming(models.TextChoices):
    """When an inventory was taken (21 CFR 1304.11(a): opening or close of business)."""

    OPENING = "opening", "Opening of business"
    CLOSE = "close", "Close of business"


class Count(models.Model):
    """An inventory or shift count at a registered location, by two people."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT)
    kind = models.CharField(max_length=10, choices=CountKind.choices)
    timing = models.CharField(max_length=10, choices=CountTiming.choices, blank=True)
    taken_at = models.DateTimeField()
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_counter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(second_counter=models.F("counted_by")),
                name="count_two_people",
            ),
        ]
        ordering = ["-taken_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.taken_at:%Y-%m-%d}"


class CountLine(models.Model):
    """One container counted: what the ledger expected and what was found."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    count = models.ForeignKey(Count, on_delete=models.PROTECT, related_name="lines")
    container = models.ForeignKey(Container, on_delete=models.PROTECT, related_name="+")
    expected = models.DecimalField(max_digits=18, decimal_places=3)
    counted = models.DecimalField(max_digits=18, decimal_places=3)
    measured = models.BooleanField(
        default=False, help_text="An opened container's volume measured rather than estimated."
    )
    discrepancy = models.ForeignKey(
        Discrepancy, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(counted__gte=0), name="count_not_negative"),
        ]


class TheftLossKind(models.TextChoices):
    """What DEA Form 106 asks: theft, loss, or loss in transit."""

    THEFT = "theft", "Theft"
    LOSS = "loss", "Significant loss"
    IN_TRANSIT = "in_transit", "Lost in transit"


class TheftLoss(models.Model):
    """A theft or loss with what DEA Form 106 needs and its deadlines (21 CFR 1301.76(b))."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=TheftLossKind.choices)
    discovered_on = models.DateField()
    circumstances = models.TextField()
    police_report = models.CharField(max_length=100, blank=True)
    notice_due_on = models.DateField()
    form_106_due_on = models.DateField()
    notice_sent_on = models.DateField(null=True, blank=True)
    form_106_filed_on = models.DateField(null=True, blank=True)
    form_106_number = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-discovered_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} discovered {self.discovered_on}"


class WitnessLock(models.Model):
    """Wrong passwords typed for a member of the clinic as a witness, second counter or
    co-signer, and the lock they earn (counted outside the refused step's transaction)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "user"], name="witness_lock_one_per_member"),
        ]

    def __str__(self) -> str:
        return f"witness lock of user {self.user_id}"
