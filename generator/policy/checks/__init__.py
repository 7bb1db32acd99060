"""Built-in checks: rules that span several objects or need computation a JSON Schema cannot express."""

from __future__ import annotations

from mlgitops.policy.checks.autoscaling import hpa_keda_conflict, hpa_replicas, hpa_target, pdb_blocks_drain
from mlgitops.policy.checks.budget import env_budget
from mlgitops.policy.checks.capacity import job_pool_capacity
from mlgitops.policy.checks.gpu import gpu_limits, gpu_node_selection, gpu_pool_taint, gpu_shm, gpu_toleration, schedulable
from mlgitops.policy.checks.kueue import kueue_quota
from mlgitops.policy.checks.ray import ray_worker_gpus
from mlgitops.policy.checks.references import configmap_reference, serviceaccount_reference
from mlgitops.policy.checks.schema_rule import schema_check
from mlgitops.policy.checks.security import (
    network_policy,
    plaintext_secret,
    resources_limits,
    secret_reference,
    security_non_root,
)
from mlgitops.policy.checks.storage import emptydir_data, pvc_reference, pvc_rwo_shared, volume_mounts
from mlgitops.policy.checks.workloads import api_validation, job_restart_policy, serving_probes
from mlgitops.policy.checks.yaml_values import ambiguous_yaml_value
from mlgitops.policy.model import SetCheck

BUILTIN_CHECKS: dict[str, SetCheck] = {
    "ambiguous-yaml-value": ambiguous_yaml_value,
    "api-validation": api_validation,
    "configmap-reference": configmap_reference,
    "emptydir-data": emptydir_data,
    "env-budget": env_budget,
    "gpu-limits": gpu_limits,
    "gpu-node-selection": gpu_node_selection,
    "gpu-pool-taint": gpu_pool_taint,
    "gpu-shm": gpu_shm,
    "gpu-toleration": gpu_toleration,
    "hpa-keda-conflict": hpa_keda_conflict,
    "hpa-replicas": hpa_replicas,
    "hpa-target": hpa_target,
    "job-pool-capacity": job_pool_capacity,
    "job-restart-policy": job_restart_policy,
    "kueue-quota": kueue_quota,
    "network-policy": network_policy,
    "pdb-blocks-drain": pdb_blocks_drain,
    "plaintext-secret": plaintext_secret,
    "pvc-reference": pvc_reference,
    "pvc-rwo-shared": pvc_rwo_shared,
    "ray-worker-gpus": ray_worker_gpus,
    "resources-limits": resources_limits,
    "schedulable": schedulable,
    "schema": schema_check,
    "secret-reference": secret_reference,
    "security-non-root": security_non_root,
    "serviceaccount-reference": serviceaccount_reference,
    "serving-probes": serving_probes,
    "volume-mounts": volume_mounts,
    # Waivers are applied by the engine itself; the policy sets the severity of invalid ones.
    "waivers": lambda manifests, policy, context: iter(()),
}
