"""One request, the route's dose plan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ketacare.clinical.history import PastDose, titration
from ketacare.clinical.ordering import DoseRequest, plan_dose
from ketacare.clinical.protocols import get_protocol

D = Decimal


def test_each_route_plans_its_own_way() -> None:
    iv = plan_dose(
        get_protocol("iv_induction_6x"),
        DoseRequest(
            actual_weight_kg=70,
            height_cm=175,
            sex="male",
            inputs={"concentration_mg_per_ml": 1, "container_volume_ml": 50},
        ),
    )
    assert (iv.route, iv.dose_mg, iv.rate_ml_per_h) == ("iv", D("35.0"), D("52.5"))
    im = plan_dose(
        get_protocol("im_titration"),
        DoseRequest(
            actual_weight_kg=70,
            height_cm=175,
            sex="male",
            inputs={"concentration_mg_per_ml": 50, "mg_per_kg": D("0.2")},
            titration=titration([PastDose(date(2026, 3, 1), D(7), D("0.1"))], date(2026, 3, 8)),
        ),
    )
    assert (im.route, im.warnings) == ("im", ())
    esk = plan_dose(get_protocol("esketamine_trd"), DoseRequest(None, inputs={"dose_mg": 56}))
    assert (esk.devices, esk.dose_mg) == (2, D(56))
    history = titration([PastDose(date(2026, 3, 1), D(50))], date(2026, 3, 8))
    lozenge = plan_dose(
        get_protocol("sublingual_home"),
        DoseRequest(None, inputs={"dose_mg": 75}, titration=history),
    )
    assert lozenge.route == "sublingual" and lozenge.dose_mg == D(75)
