"""Score Python YAML engines on the YAML test suite and time them on a benchmark fleet.

The YAML test suite (github.com/yaml/yaml-test-suite, data branch; a copy is in ../shared/yaml-test-suite)
holds one folder per case: `in.yaml`, `in.json` (the documents as JSON, when JSON can hold them) and
`error` (when a conforming parser must refuse the input). For every engine and case this records:

    valid accepted   - a case without `error` loads without an exception
    JSON equal       - ... and gives the objects of `in.json` (only cases that have one)
    invalid refused  - a case with `error` raises

YAML 1.1 engines (PyYAML) read some plain scalars differently from the JSON of a 1.2 reader
(`yes`, `0o14`, `1e3`), so their JSON figure is a lower bound of their conformance; it is printed
to show how far each engine's objects are from a 1.2 reader's, not as a grade on its own.
Engines that are not installed are reported as such. Each engine runs in its own process that
is restarted after a crash (one case then counts as a failure), so a segfault costs one case.

    benchmarks/.peers/bin/python benchmarks/engines.py --suite ../shared/yaml-test-suite \
        [--fleet benchmarks/out/n1000/tree] [--json benchmarks/out/engines.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# name -> (module to import, loader expression over `text`, returning the list of documents)
ENGINES: dict[str, tuple[str, str]] = {
    "PyYAML 6 (libyaml C loader)": ("yaml", "list(yaml.load_all(text, Loader=yaml.CSafeLoader))"),
    "yaml-rs": ("yaml_rs", "yaml_rs_documents(text)"),
    "rapidyaml (tree -> JSON)": ("ryml", "ryml_documents(text)"),
    "libfyaml (yaml1.1 mode)": ("libfyaml", "[d.to_python() for d in libfyaml.loads_all(text, mode='yaml1.1')]"),
    "libfyaml (1.2 mode)": ("libfyaml", "[d.to_python() for d in libfyaml.loads_all(text)]"),
    "py-yaml12": ("yaml12", "yaml12.parse_yaml(text, multi=True)"),
    "fastyaml-rs": ("fast_yaml", "list(fast_yaml.safe_load_all(text))"),
    "ryaml": ("ryaml", "ryaml.loads_all(text)"),
    "rustyyaml": ("rustyyaml", "rustyyaml.load_all(text)"),
    "xoryaml": ("xoryaml", "xoryaml.loads_all(text)"),
}

# Runs inside the engine's process: reads case paths on stdin, answers one JSON line per case.
WORKER = r"""
import json, sys, importlib, math
module_name, expression = sys.argv[1], sys.argv[2]
module = importlib.import_module(module_name)
globals()[module_name] = module

def yaml_rs_documents(text):
    # loads() returns a list for a stream of several documents; one document is returned as is.
    import re
    value = module.loads(text, parse_datetime=False)
    several = len(re.findall(r"(?m)^---(?:[ \t]|$)", text)) > 1 or re.search(r"(?m)^\.\.\.(?:[ \t]|$)[\s\S]*\S", text)
    return value if several and isinstance(value, list) else ([] if value is None and not text.strip() else [value])

def ryml_documents(text):
    tree = module.parse_in_arena(text.encode())
    root = tree.root_id()
    nodes = []
    if tree.is_stream(root):
        child = tree.first_child(root)
        while child != module.NONE:
            nodes.append(child)
            child = tree.next_sibling(child)
    else:
        nodes = [root]
    return [json.loads(module.emit_json(tree, node)) for node in nodes]

def plain(value):
    # Objects as JSON would hold them: dates and other types become text, keys become text.
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)

for line in sys.stdin:
    case = json.loads(line)
    try:
        with open(case["yaml"], encoding="utf-8") as stream:
            text = stream.read()
        documents = plain(eval(expression))
        answer = {"ok": True, "documents": documents}
    except Exception as error:
        answer = {"ok": False, "error": type(error).__name__}
    try:
        print(json.dumps(answer), flush=True)
    except (TypeError, ValueError):
        print(json.dumps({"ok": True, "documents": None}), flush=True)
"""


def cases(suite: Path) -> list[dict[str, Any]]:
    found = []
    for source in sorted(suite.rglob("in.yaml")):
        folder = source.parent
        expected = None
        if (folder / "in.json").exists():
            expected = _json_stream((folder / "in.json").read_text(encoding="utf-8"))
        found.append(
            {
                "id": folder.relative_to(suite).as_posix(),
                "yaml": str(source),
                "error": (folder / "error").exists(),
                "json": expected,
            }
        )
    return found


def _json_stream(text: str) -> list[Any] | None:
    decoder, documents, at = json.JSONDecoder(), [], 0
    try:
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at >= len(text):
                return documents
            value, at = decoder.raw_decode(text, at)
            documents.append(value)
    except ValueError:
        return None


def available(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False).returncode == 0


def answers(python: str, module: str, expression: str, todo: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One answer per case; a crashed worker is restarted after the case it died on."""
    results: list[dict[str, Any]] = []
    while len(results) < len(todo):
        rest = todo[len(results) :]
        feed = "".join(json.dumps(case) + "\n" for case in rest)
        done = subprocess.run(
            [python, "-c", WORKER, module, expression], input=feed, capture_output=True, text=True, timeout=600, check=False
        )
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        results += lines
        if len(results) < len(todo):
            results.append({"ok": False, "error": f"crashed (exit {done.returncode})"})
    return results


def score(suite_cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    valid = [(c, r) for c, r in zip(suite_cases, results, strict=True) if not c["error"]]
    invalid = [(c, r) for c, r in zip(suite_cases, results, strict=True) if c["error"]]
    with_json = [(c, r) for c, r in valid if c["json"] is not None]
    return {
        "valid_accepted": sum(r["ok"] for _, r in valid),
        "valid": len(valid),
        "json_equal": sum(r["ok"] and r["documents"] == c["json"] for c, r in with_json),
        "with_json": len(with_json),
        "invalid_refused": sum(not r["ok"] for _, r in invalid),
        "invalid": len(invalid),
        "crashes": sum(str(r.get("error", "")).startswith("crashed") for r in results),
    }


def fleet_seconds(python: str, module: str, expression: str, fleet: Path) -> float | None:
    """Seconds to load every YAML file of a rendered fleet to Python objects (one process, no warm-up)."""
    files = sorted(str(p) for p in fleet.rglob("*.yaml"))
    program = WORKER.split("for line in sys.stdin:")[0] + (
        "import time\ntexts = [open(p, encoding='utf-8').read() for p in sys.stdin.read().split()]\n"
        "start = time.perf_counter()\nfor text in texts:\n    eval(expression)\nprint(time.perf_counter() - start)\n"
    )
    done = subprocess.run(
        [python, "-c", program, module, expression], input="\n".join(files), capture_output=True, text=True, check=False
    )
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    peers = Path(__file__).resolve().parent / ".peers" / "bin" / "python"
    parser.add_argument("--suite", type=Path, required=True, help="the YAML test suite's data (one folder per case)")
    parser.add_argument("--python", default=str(peers) if peers.exists() else sys.executable, help="interpreter with the engines")
    parser.add_argument("--fleet", type=Path, help="also time each engine loading every YAML file under this folder")
    parser.add_argument("--json", type=Path, help="write every figure as JSON here")
    args = parser.parse_args(argv)
    suite_cases = cases(args.suite)
    report: dict[str, Any] = {"cases": len(suite_cases), "engines": {}}
    print(
        f"{len(suite_cases)} cases; engine: valid accepted, JSON equal, invalid refused, crashes"
        + (", fleet load s" if args.fleet else "")
    )
    for name, (module, expression) in ENGINES.items():
        if not available(args.python, module):
            print(f"  {name:<30} not installed")
            report["engines"][name] = {"installed": False}
            continue
        started = time.perf_counter()
        figures = score(suite_cases, answers(args.python, module, expression, suite_cases))
        figures["installed"] = True
        if args.fleet:
            figures["fleet_load_s"] = fleet_seconds(args.python, module, expression, args.fleet)
        report["engines"][name] = figures
        fleet = f", {figures['fleet_load_s']:.2f} s" if figures.get("fleet_load_s") is not None else ""
        took = time.perf_counter() - started
        print(
            f"  {name:<30} {figures['valid_accepted']}/{figures['valid']}, {figures['json_equal']}/{figures['with_json']}, "
            f"{figures['invalid_refused']}/{figures['invalid']}, {figures['crashes']}{fleet}  ({took:.0f} s)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
