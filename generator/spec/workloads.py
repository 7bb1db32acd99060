"""The ML workloads a team writes: one discriminated union over every workload kind (one module per family).

What the pipeline knows about each kind is its row in the registry, ``spec/kinds.py`` (and its renderer in
``render/kinds.py``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mlgitops.spec.batch import Batch
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.ray import RayJob, RayService
from mlgitops.spec.serving import Serving
from mlgitops.spec.training import DistributedTraining, Training

Workload = Annotated[
    Training | DistributedTraining | Serving | LlmServing | Batch | RayJob | RayService, Field(discriminator="kind")
]
"""A workload; `kind` says which: training, distributed-training, serving, llm-serving, batch, ray-job or ray-service."""
