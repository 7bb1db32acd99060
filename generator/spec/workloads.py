"""The ML workloads a team writes: one discriminated union over every workload kind (one module per family)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from generator.spec.batch import Batch
from generator.spec.llm import LlmServing
from generator.spec.ray import RayJob, RayService
from generator.spec.serving import Serving
from generator.spec.training import DistributedTraining, Training

Workload = Annotated[
    Training | DistributedTraining | Serving | LlmServing | Batch | RayJob | RayService, Field(discriminator="kind")
]
"""A workload; `kind` says which: training, distributed-training, serving, llm-serving, batch, ray-job or ray-service."""

QueuedWorkload = Training | DistributedTraining | RayJob
"""Workloads Kueue can admit: they carry a `queue` and start suspended."""
