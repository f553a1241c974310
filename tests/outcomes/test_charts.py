"""The trajectory chart's geometry: bands from the scale's own data, points inside the plot."""

from datetime import UTC, datetime, timedelta

from ketacare.clinical.instruments import get_instrument
from ketacare.followup.charts import Event, Score, trajectory_chart

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _scores(*totals):
    return [Score(START + timedelta(days=7 * i), t, "x") for i, t in enumerate(totals)]


def test_the_bands_are_the_scales_own_and_fill_the_plot_without_gaps():
    phq9 = get_instrument("phq9")
    chart = trajectory_chart(phq9, _scores(20, 12, 6), baseline=20)
    assert [b.name for b in chart.bands] == [b.name for b in phq9.bands]
    ordered = sorted(chart.bands, key=lambda b: b.y)
    assert ordered[0].y == chart.plot_top
    assert round(ordered[-1].y + ordered[-1].height, 1) == chart.plot_bottom
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        assert round(upper.y + upper.height, 1) == lower.y


def test_higher_scores_sit_higher_and_later_ones_further_right():
    chart = trajectory_chart(get_instrument("phq9"), _scores(20, 12, 6), baseline=20)
    xs, ys = [p.x for p in chart.points], [p.y for p in chart.points]
    assert xs == sorted(xs) and ys == sorted(ys)
    assert all(chart.plot_left <= x <= chart.plot_right for x in xs)
    assert chart.baseline_y == chart.points[0].y


def test_sessions_and_boosters_are_marked_where_they_happened():
    events = [
        Event(START + timedelta(days=3), "session", "Session"),
        Event(START + timedelta(days=10), "booster", "Booster session"),
    ]
    chart = trajectory_chart(get_instrument("gad7"), _scores(15, 9), baseline=15, events=events)
    points = {p.label.split(":")[0]: p.x for p in chart.points}
    session, booster = chart.markers
    assert points["2026-03-02"] < session.x < booster.x
    assert (session.kind, booster.kind) == ("session", "booster")


def test_a_single_score_still_draws_a_readable_chart():
    chart = trajectory_chart(get_instrument("phq9"), _scores(11), baseline=11)
    assert len(chart.points) == 1 and chart.line
    assert chart.x_ticks[0].label != chart.x_ticks[1].label
