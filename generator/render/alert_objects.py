"""The environment's alerts (render/alert_rules.py) as a PrometheusRule, and as promtool's rule and unit-test files.

The PrometheusRule (monitoring.coreos.com/v1; SOURCE: prometheus-operator/prometheus-operator
example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml) holds one rule group per workload and
one for the environment (its Kueue queues and claims); its `spec` is a Prometheus rule file, which `promtool check
rules` reads as is. The unit tests follow promtool's format (prometheus/prometheus docs/configuration/unit_testing_
rules.md): one test where every alert's synthetic series fire it with its exact labels and annotations, and one
where they keep it quiet.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.alert_rules import Alert
from mlgitops.render.metadata import object_meta
from mlgitops.spec.environment import Environment

EVALUATION_INTERVAL = "5m"
RULE_NAME = "ml-alerts"
"""The PrometheusRule's name (one per environment namespace)."""


def _rule(alert: Alert) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert.name, "expr": alert.expr}
    if alert.duration is not None:
        rule["for"] = alert.duration
    rule["labels"] = dict(alert.labels)
    rule["annotations"] = _annotations(alert)
    return rule


def _annotations(alert: Alert) -> dict[str, str]:
    annotations = {"summary": alert.summary, "description": alert.description}
    if alert.runbook_url is not None:
        annotations["runbook_url"] = alert.runbook_url
    return annotations


def rule_groups(alerts: list[Alert]) -> list[dict[str, Any]]:
    """Prometheus rule groups: one per workload, in the alerts' order, and the environment's last."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        groups.setdefault(alert.group, []).append(_rule(alert))
    return [{"name": f"mlgitops.{name}", "rules": rules} for name, rules in groups.items()]


def render_prometheus_rule(environment: Environment, name: str, alerts: list[Alert]) -> dict[str, Any] | None:
    """The environment's PrometheusRule, labelled for its Prometheus' ruleSelector (None without alerts)."""
    if not alerts or environment.monitoring is None:
        return None
    meta = object_meta(environment, name, name=RULE_NAME, app=RULE_NAME, component="monitoring")
    labels = dict(sorted({**meta.labels, **environment.monitoring.labels}.items()))
    metadata = meta.render(environment.namespace)
    metadata["labels"] = labels
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": metadata,
        "spec": {"groups": rule_groups(alerts)},
    }


def _selector(metric: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _test(alerts: list[Alert], environment: str, *, firing: bool) -> dict[str, Any]:
    """One test group of every alert's series: each alert name is evaluated once every alert of that name has had its
    time (the alerts of one name select disjoint series: their workloads', queues', claims')."""
    last = max(alert.eval_minutes for alert in alerts)
    series = [
        {"series": _selector(s.metric, s.labels), "values": f"{s.firing if firing else s.quiet}x{last + 5}"}
        for alert in alerts
        for s in alert.series
    ]
    by_name: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_name.setdefault(alert.name, []).append(alert)
    checks = []
    for name, named in by_name.items():
        expected = [{"exp_labels": {**alert.output, **alert.labels}, "exp_annotations": _annotations(alert)} for alert in named]
        checks.append(
            {
                "eval_time": f"{max(alert.eval_minutes for alert in named)}m",
                "alertname": name,
                "exp_alerts": expected if firing else [],
            }
        )
    return {
        "name": f"{environment}: every alert {'fires on its series' if firing else 'stays quiet'}",
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": checks,
    }


def promtool_rules(alerts: list[Alert]) -> dict[str, Any]:
    """The alerts as a Prometheus rule file (what the PrometheusRule's spec holds)."""
    return {"groups": rule_groups(alerts)}


def promtool_tests(alerts: list[Alert], environment: str, rule_file: str) -> dict[str, Any]:
    """promtool unit tests of ``rule_file`` (a path relative to the test file): each alert fires on its synthetic
    series, with exactly its labels and annotations, and stays quiet on the quiet ones. Rules are evaluated every
    5 minutes (each test looks 10 minutes past an alert's `for`)."""
    tests = [_test(alerts, environment, firing=True), _test(alerts, environment, firing=False)]
    return {"rule_files": [rule_file], "evaluation_interval": EVALUATION_INTERVAL, "tests": tests}
