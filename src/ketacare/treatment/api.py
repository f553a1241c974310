"""The treatment API."""

from ninja import Router

router = Router(tags=["treatment"])
