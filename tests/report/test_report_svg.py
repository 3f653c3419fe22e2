import re
from datetime import UTC, datetime
from xml.etree import ElementTree

from distillguard.report import svg
from distillguard.report.plots import model_timeline

HOUR = 3600


def _axis(start: datetime, bins: int, width: int) -> dict:
    return {"first_bin": int(start.timestamp()) // width, "bins": bins, "width": width}


def _texts(markup: str, cls: str = "tick") -> list[str]:
    return [t.text for t in ElementTree.fromstring(markup).iter("text") if t.get("class") == cls]


def test_a_two_day_timeline_has_round_counts_dates_at_midnight_and_hours_between():
    axis = _axis(datetime(2026, 11, 27, 0, tzinfo=UTC), 48, HOUR)
    series = {"model-a": [10] * 48, "model-b": [0] * 24 + [27] * 24}
    chart = svg.time_chart(series, ["model-a", "model-b"], axis, "exchanges / hour")
    ticks = _texts(chart)
    assert ticks[:3] == ["0", "25", "50"]  # the busiest bin holds 37: the axis ends at 50
    assert "exchanges / hour" in ticks
    times = ticks[4:]
    assert times[0] == "Nov 27" and "Nov 28" in times and "Nov 29" in times
    assert {"06:00", "12:00", "18:00"} <= set(times) and len(times) <= svg.MAX_TIME_TICKS + 1
    polygons = re.findall(r"<polygon [^>]*><title>([^<]*)</title>", chart)
    assert polygons == ["model-a: 480 exchanges", "model-b: 648 exchanges"]


def test_a_long_window_is_labelled_by_date_only():
    axis = _axis(datetime(2026, 10, 1, tzinfo=UTC), 60, 86400)
    ticks = _texts(svg.time_chart({"m": list(range(60))}, ["m"], axis, "exchanges / day"))
    dates = ticks[4:]
    assert dates and all(re.fullmatch(r"[A-Z][a-z]{2} \d\d", d) for d in dates)
    assert ticks[2] == "100"  # 59 exchanges at most: a round 100


def test_labels_from_the_traffic_are_escaped_and_nothing_draws_nothing():
    axis = _axis(datetime(2026, 11, 27, tzinfo=UTC), 4, HOUR)
    chart = model_timeline({"<script>x</script>": [1, 2, 3, 4]}, ["<script>x</script>"], axis)
    ElementTree.fromstring(chart)  # well-formed markup
    assert "<script>" not in chart and "&lt;script&gt;" in chart
    assert model_timeline({}, [], axis) == ""
