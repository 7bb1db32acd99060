"""The API server's own validation rules that a JSON Schema cannot express, in one place.

``render`` applies them to environment files (``spec/checks.py``, ``spec/batch.py``,
``spec/container.py``) and ``lint`` to any manifest (the ``api-validation``, ``gpu-limits``
and ``job-restart-policy`` rules), so the two cannot disagree. Each function follows the
Kubernetes validation named in its docstring (``pkg/apis/core/validation``,
``pkg/apis/batch/validation``) and returns a message, or problems with field paths relative
to what it was given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from mlgitops.kube import names
from mlgitops.kube.accelerators import accelerator
from mlgitops.kube.metadata_rules import metadata_problems
from mlgitops.kube.pods import FieldPath, PodTemplate, group_of, mapping, pod_templates
from mlgitops.kube.quantity import QuantityError, QuantityTooLarge, parse_quantity

_CRON_MACROS = frozenset(("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"))
_GO_DURATION = re.compile(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")
JOB_RESTART_POLICIES = ("Never", "OnFailure")
EXTENDED = "extended-resource"


@dataclass(frozen=True)
class ApiProblem:
    """What the API server would refuse, at a field path relative to the value that was checked."""

    path: FieldPath
    message: str
    topic: str = "value"
    """"quantity", "limit", "extended-resource", "restart-policy", "schedule", "time-zone", "port-name" or "metadata"."""
    at_key: bool = False
    """The key at ``path`` is at fault (a label key), not its value."""


def quantity_problem(value: Any) -> str | None:
    """Why ``value`` is not a resource quantity the API server accepts (``resource.Quantity``, >= 0), or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"{_shown(value)} is not a Kubernetes quantity (write e.g. '500m' or '4Gi')"
    try:
        amount = parse_quantity(str(value))
    except QuantityTooLarge:
        return f"{_shown(value)} is too large for a Kubernetes quantity (the limit is 2^63-1)"
    except QuantityError as error:
        return str(error)
    if amount < 0:
        return f"{_shown(value)} is negative; resource quantities must be zero or more"
    return None


def is_extended_resource(name: str) -> bool:
    """Whether ``name`` is an extended resource (``<domain>/<name>`` outside ``kubernetes.io``): GPUs, accelerators, devices."""
    domain, slash, _ = name.partition("/")
    return (
        bool(slash) and domain != "kubernetes.io" and not domain.endswith(".kubernetes.io") and not name.startswith("requests.")
    )


def resource_problems(resources: Mapping[str, Any]) -> list[ApiProblem]:
    """Problems of one container's ``resources`` (``ValidateResourceRequirements``), paths like ("limits", "cpu").

    Every value is a valid, non-negative quantity; a limit is at least its request; an
    extended resource is a whole number, set in limits, and its request (if any) equals the limit.
    """
    problems: list[ApiProblem] = []
    parsed: dict[str, dict[str, Decimal]] = {"requests": {}, "limits": {}}
    limits_given = mapping(resources.get("limits"))
    for where in ("limits", "requests"):
        values = resources.get(where)
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if where == "requests" and name in limits_given and limits_given[name] == value:
                # Equal to the limit (or copied from it by defaulting): a problem is reported once, at the limit.
                if quantity_problem(value) is None:
                    parsed[where][str(name)] = parse_quantity(str(value))
                continue
            problem = quantity_problem(value)
            if problem is not None:
                problems.append(ApiProblem((where, str(name)), f"{where}.{name}: {problem}", "quantity"))
                continue
            amount = parse_quantity(str(value))
            parsed[where][str(name)] = amount
            if is_extended_resource(str(name)) and amount != amount.to_integral_value():
                problems.append(
                    ApiProblem(
                        (where, str(name)), f"{_extended(str(name))} must be a whole number, not {_shown(value)}", EXTENDED
                    )
                )
    requests, limits = parsed["requests"], parsed["limits"]
    for name, request in requests.items():
        limit = limits.get(name)
        raw_request = resources["requests"][name]
        if is_extended_resource(name):
            if name not in limits and name not in _invalid(resources, "limits"):
                problems.append(
                    ApiProblem(
                        ("requests", name),
                        f"{_extended(name)} is requested ({_shown(raw_request)}) without a limit: set it in limits",
                        EXTENDED,
                    )
                )
            elif limit is not None and limit != request:
                problems.append(
                    ApiProblem(
                        ("requests", name),
                        f"{_extended(name)}: the request {_shown(raw_request)} differs from the limit "
                        f"{_shown(resources['limits'][name])}; they must be equal",
                        EXTENDED,
                    )
                )
        elif limit is not None and limit < request:
            problems.append(
                ApiProblem(
                    ("limits", name),
                    f"{name} limit {_shown(resources['limits'][name])} is below the request {_shown(raw_request)}; "
                    "a limit must be >= the request",
                    "limit",
                )
            )
    return problems


def _invalid(resources: Mapping[str, Any], where: str) -> set[str]:
    values = resources.get(where)
    return {str(name) for name, value in values.items() if quantity_problem(value)} if isinstance(values, dict) else set()


def _extended(name: str) -> str:
    found = accelerator(name)
    return f"{name} ({found.vendor} accelerator)" if found is not None else f"{name} (extended resource)"


def restart_policy_problem(pod: Mapping[str, Any]) -> str | None:
    """Why a Job's pod template is refused for its restartPolicy (``ValidateJobSpec``: Never or OnFailure), or None."""
    policy = pod.get("restartPolicy")
    if policy in JOB_RESTART_POLICIES:
        return None
    if policy is None:
        return "a Job's pods need restartPolicy Never or OnFailure (it has none, and Always is not allowed)"
    return f"a Job's pods need restartPolicy Never or OnFailure, not {_shown(policy)}"


def cron_schedule_problem(schedule: Any) -> str | None:
    """Why a CronJob ``schedule`` is refused (robfig/cron ``ParseStandard``, as ``ValidateCronJobSpec`` uses), or None.

    Five fields (minute hour day-of-month month day-of-week, day-of-week 0-6), a macro
    (``@daily``…) or ``@every <duration>``; ``TZ=``/``CRON_TZ=`` prefixes belong in ``timeZone``.
    Field syntax is checked with croniter.
    """
    if not isinstance(schedule, str) or not schedule.strip():
        return "a CronJob needs a schedule such as '0 2 * * *'"
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        return f"{_shown(schedule)}: set the time zone in spec.timeZone, not in the schedule"
    if text.startswith("@"):
        if text in _CRON_MACROS or (text.startswith("@every ") and _GO_DURATION.fullmatch(text[7:].strip())):
            return None
        return f"{_shown(schedule)} is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly or '@every 1h')"
    fields = text.split()
    if len(fields) != 5:
        return f"{_shown(schedule)} has {len(fields)} fields; a schedule has five: minute hour day-of-month month day-of-week"
    if not _croniter_accepts(text) or re.search(r"[LW#]", text):
        return f"{_shown(schedule)} is not a valid cron schedule (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6)"
    if any(int(number) > 6 for number in re.findall(r"[0-9]+", fields[4].split("/")[0])):
        return f"{_shown(schedule)}: day-of-week runs from 0 (Sunday) to 6 in Kubernetes; 7 is not accepted"
    return None


@cache
def _croniter_accepts(text: str) -> bool:
    from croniter import croniter

    return bool(croniter.is_valid(text))


def time_zone_problem(zone: Any) -> str | None:
    """Why a CronJob ``timeZone`` is refused (``validateTimeZone``: an IANA zone name, not ``Local``), or None."""
    if not isinstance(zone, str) or not zone:
        return f"{_shown(zone)} is not an IANA time zone such as 'Europe/Berlin'"
    if zone.lower() == "local" or zone.strip() != zone:
        return f"{_shown(zone)} is not an explicit IANA time zone such as 'Europe/Berlin'"
    if not _known_zone(zone):
        return f"{_shown(zone)} is not an IANA time zone (e.g. 'Europe/Berlin', 'America/New_York', 'UTC')"
    return None


@cache
def _known_zone(zone: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def port_name_problem(name: Any) -> str | None:
    """Why a container port name is refused (``IsValidPortName``, IANA_SVC_NAME: ``kube.names.port_name_problem``), or None."""
    if not isinstance(name, str):
        return f"port name {_shown(name)} must be text"
    return names.port_name_problem(name)


def object_problems(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> Iterator[ApiProblem]:
    """Problems of a whole object, paths from its root: its metadata (``kube.metadata_rules``: name by
    kind, namespace, labels, annotations, selectors, data keys), every container's name (a DNS-1123 label),
    resources and port names, CronJob schedules and time zones, and Service target ports (extended resources and
    Job restart policies are left to ``extended_resource_problems`` and ``job_template_problems``).

    ``templates`` (here and in those two) are ``obj``'s pod templates when the caller has them already."""
    templates = pod_templates(obj) if templates is None else templates
    for found in metadata_problems(obj, templates):
        yield ApiProblem(found.path, found.message, "metadata", found.at_key)
    for template in templates:
        for container in template.containers:
            name = container.spec.get("name")
            if isinstance(name, str):
                # validateContainerCommon (pkg/apis/core/validation): ValidateDNS1123Label(ctr.Name).
                message = names.dns1123_label_problem(name)
                if message:
                    yield ApiProblem((*container.path, "name"), f"container name: {message}", "container-name")
            resources = container.spec.get("resources")
            if isinstance(resources, dict):
                for problem in resource_problems(resources):
                    if problem.topic != EXTENDED:
                        yield ApiProblem((*container.path, "resources", *problem.path), problem.message, problem.topic)
            ports = container.spec.get("ports")
            for index, port in enumerate(ports if isinstance(ports, list) else []):
                if isinstance(port, dict) and "name" in port:
                    message = port_name_problem(port["name"])
                    if message:
                        yield ApiProblem((*container.path, "ports", index, "name"), message, "port-name")
    if group_of(obj) == "batch" and obj.get("kind") == "CronJob":
        spec = mapping(obj.get("spec"))
        message = cron_schedule_problem(spec.get("schedule"))
        if message:
            yield ApiProblem(("spec", "schedule"), message, "schedule")
        if "timeZone" in spec:
            message = time_zone_problem(spec["timeZone"])
            if message:
                yield ApiProblem(("spec", "timeZone"), message, "time-zone")
    if group_of(obj) == "" and obj.get("kind") == "Service":
        ports = mapping(obj.get("spec")).get("ports")
        for index, port in enumerate(ports if isinstance(ports, list) else []):
            target = port.get("targetPort") if isinstance(port, dict) else None
            if isinstance(target, str) and not target.isdigit():
                message = port_name_problem(target)
                if message:
                    yield ApiProblem(("spec", "ports", index, "targetPort"), f"targetPort: {message}", "port-name")


def extended_resource_problems(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> Iterator[ApiProblem]:
    """The extended-resource problems of every container of ``obj`` (whole numbers, in limits, request == limit),
    and DRA claims a container uses that its pod does not list in ``resourceClaims``."""
    for template in pod_templates(obj) if templates is None else templates:
        pod_claims = template.spec.get("resourceClaims")
        names = {str(c.get("name")) for c in pod_claims if isinstance(c, dict)} if isinstance(pod_claims, list) else set()
        for container in template.containers:
            resources = container.spec.get("resources")
            claims = resources.get("claims") if isinstance(resources, dict) else None
            for index, claim in enumerate(claims if isinstance(claims, list) else []):
                if isinstance(claim, dict) and str(claim.get("name")) not in names:
                    yield ApiProblem(
                        (*container.path, "resources", "claims", index, "name"),
                        f"{container.label} uses claim {_shown(claim.get('name'))}, which is not in the pod's "
                        "resourceClaims: the API server refuses the pod",
                        EXTENDED,
                    )
            if isinstance(resources, dict):
                for problem in resource_problems(resources):
                    if problem.topic == EXTENDED:
                        yield ApiProblem((*container.path, "resources", *problem.path), problem.message, problem.topic)


def job_template_problems(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> Iterator[ApiProblem]:
    """Job pod templates (Jobs, CronJobs, JobSets, training runtimes) whose restartPolicy the API server refuses."""
    for template in pod_templates(obj) if templates is None else templates:
        if template.job and not (template.partial and "restartPolicy" not in template.spec):
            message = restart_policy_problem(template.spec)
            if message:
                yield ApiProblem((*template.path, "restartPolicy"), message, "restart-policy")


def _shown(value: Any) -> str:
    """A value as a user wrote it in YAML: text in single quotes, numbers and booleans plain."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)
