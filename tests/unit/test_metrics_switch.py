"""POWERTOOLS_METRICS_DISABLED, as the local stages set it, means no metrics at all: a
long-running local process neither prints EMF nor keeps values it will never publish."""

from __future__ import annotations

import json

from chalicelib.observability import count, metrics


def test_disabled_metrics_print_and_keep_nothing(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()
    for _ in range(250):  # Powertools prints its buffer at the 100th value of a metric
        count("Holds")
        count("HoldConflicts", cause="gate")
    assert capsys.readouterr().out == ""
    assert metrics.metric_set == {}


def test_enabled_metrics_are_buffered_until_the_flush(monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    count("Holds", 2)
    assert metrics.metric_set["Holds"]["Value"] == [2.0]
    metrics.flush_metrics()
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["Holds"] == [2.0]
    assert metrics.metric_set == {}
