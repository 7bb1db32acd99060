"""One environment through the pipeline: model → objects → schema validation → file texts.

No file-system access here: loading happens before, writing after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlgitops.errors import UserError, UserErrors
from mlgitops.fleet.provenance import field_source
from mlgitops.kube import schema
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.render import KUSTOMIZATION, Rendered, render_environment, render_gitops
from mlgitops.render.extras import as_manifest
from mlgitops.render.gitops import GitOpsError
from mlgitops.yaml.writer import dump_documents, dump_object


@dataclass
class EnvironmentOutput:
    """What one environment renders to: objects and the exact text of every file."""

    name: str
    source_file: str
    kubernetes_version: str
    rendered: list[Rendered]
    files: dict[str, str] = field(default_factory=dict)
    """File name (relative to rendered/<env>/) → file text."""
    gitops: list[Rendered] = field(default_factory=list)
    """ArgoCD/Flux objects; their paths are relative to the rendered folder ('argocd/<env>.yaml')."""
    gitops_files: dict[str, str] = field(default_factory=dict)
    """Path relative to the rendered folder ('argocd/prod.yaml') → file text."""

    @property
    def objects(self) -> list[Rendered]:
        """The Kubernetes objects, without the kustomization.yaml files."""
        return [item for item in self.rendered if not item.path.endswith(KUSTOMIZATION)]


def build(loaded: LoadedEnvironment) -> EnvironmentOutput:
    """Render, validate and serialise one loaded environment; raises UserError on any problem."""
    try:
        schema.schema_version(loaded.spec.kubernetes_version)
    except UserError as error:
        raise UserError(error.message, loaded.locate(("kubernetesVersion",))) from None
    rendered = render_environment(loaded.spec, loaded.name, loaded.tree)
    output = EnvironmentOutput(loaded.name, loaded.file, loaded.spec.kubernetes_version, rendered)
    gitops_source = loaded.locate(("gitops",))
    try:
        gitops = render_gitops(loaded.spec, loaded.name, rendered)
    except GitOpsError as error:
        raise UserError(f"{'.'.join(str(p) for p in error.path)}: {error.message}", loaded.locate(error.path)) from None
    for path, objects in gitops.items():
        output.gitops += [Rendered(obj, path, gitops_source) for obj in objects]
        output.gitops_files[path] = dump_documents(objects, loaded.file)
    check_gitops_names(output.gitops)
    validate_objects(output, loaded)
    output.files = {item.path: item.text if item.text is not None else dump_object(item.obj, loaded.file) for item in rendered}
    return output


# Flux labels every object a Kustomization applies with kustomize.toolkit.fluxcd.io/name: <its name>,
# and Argo CD tracks an Application's objects with app.kubernetes.io/instance: <its name>. Label
# values stop at 63 characters, so a longer name makes every apply fail in the cluster.
_LABELLED_BY_NAME = {"Kustomization": "kustomize.toolkit.fluxcd.io/name", "Application": "app.kubernetes.io/instance"}
LABEL_VALUE_LIMIT = 63


def check_gitops_names(objects: list[Rendered]) -> None:
    """Refuse, at the `gitops:` line, a Flux Kustomization or Argo CD Application name over 63 characters."""
    for item in objects:
        label = _LABELLED_BY_NAME.get(item.kind)
        if label is not None and len(item.name) > LABEL_VALUE_LIMIT:
            raise UserError(
                f"gitops: the {item.kind} {item.name!r} would be {len(item.name)} characters long, but its controller "
                f"writes the name into the label {label}, whose values stop at {LABEL_VALUE_LIMIT}; shorten the "
                "environment's file name or the workload group",
                item.source,
            )


def validate_objects(output: EnvironmentOutput, loaded: LoadedEnvironment | None = None) -> None:
    """kubernetes-validate strict checks of every object, for the environment's Kubernetes version.

    A custom resource mlgitops rendered must stay within what it means to emit (the project's strict
    schemas: render's self-check); one from the user's extra manifests is judged by its upstream CRD.
    """
    from mlgitops.kube.custom_resources import project_schemas, upstream_schemas

    errors = []
    for item in [*output.objects, *output.gitops]:
        custom = upstream_schemas() if item.is_extra else project_schemas()
        try:
            problems = schema.validate(item.obj, output.kubernetes_version)
        except schema.UnknownKind:
            if not custom.knows(item.obj):
                if item.is_extra:
                    continue  # a custom resource of the user's: `mlgitops lint --crd` validates it
                raise UserError(f"internal: no schema for rendered {item.kind}; please report this") from None
            problems = custom.validate(item.obj, output.kubernetes_version)
        for problem in problems:
            where = ".".join(str(p) for p in problem.path) or "(object)"
            version = schema.schema_version(output.kubernetes_version)
            if item.is_extra:
                errors.append(
                    UserError(
                        f"{item.kind} {item.name!r} does not validate against Kubernetes {version}: {where}: {problem.message}",
                        as_manifest(item).locate(problem.path, key=problem.message.startswith("unknown field")),
                    )
                )
                continue
            # The field behind the problem (a patch's field: the patch's line).
            source = field_source(item, problem.path, loaded) if loaded is not None else item.source
            errors.append(
                UserError(
                    f"rendered {item.kind} {item.name!r} does not validate against Kubernetes {version}: "
                    f"{where}: {problem.message}",
                    source,
                )
            )
    if errors:
        raise UserErrors(errors)
