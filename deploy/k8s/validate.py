"""Validate Kubernetes manifests offline with kubeconform (strict).

- kubeconform is built with ``go install github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0``
  (the Go module proxy) into ``~/.cache/ebill/tools/kubeconform-v0.7.0/`` on first use.
- The schemas are the Kubernetes JSON schemas that the PyPI package
  ``kubernetes-validate`` ships (a dev dependency). Its files refer to one shared
  ``/api/_definitions.json``, which kubeconform cannot resolve; so each kind we use is
  written once, with the definitions it refers to bundled in, into
  ``~/.cache/ebill/k8s-schemas/`` in kubeconform's ``standalone-strict`` layout.

    python deploy/k8s/validate.py [PATH...]   # default: deploy/k8s/manifests

Exits with kubeconform's status (0: every resource valid).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KUBECONFORM_VERSION = "v0.7.0"
KUBERNETES_VERSION = "1.33.0"
#: The kinds our manifests use (schema file names as kubeconform looks them up).
KINDS = ("namespace-v1", "service-v1", "configmap-v1", "secret-v1", "statefulset-apps-v1")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ebill"
_REFS = ("/api/_definitions.json#/$defs/", "#/$defs/")


def kubeconform() -> Path:
    """The kubeconform binary, built from the Go module proxy on first use.

    Raises subprocess.CalledProcessError (with go's output) if the build fails.
    """
    folder = CACHE / "tools" / f"kubeconform-{KUBECONFORM_VERSION}"
    binary = folder / "kubeconform"
    if not binary.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "go",
                "install",
                f"github.com/yannh/kubeconform/cmd/kubeconform@{KUBECONFORM_VERSION}",
            ],
            env={**os.environ, "GOBIN": str(folder)},
            check=True,
            capture_output=True,
            timeout=900,
        )
    return binary


def _bundle(node: Any, definitions: dict[str, Any], found: dict[str, Any]) -> Any:
    """Point every reference at ``#/definitions/NAME`` and collect those into ``found``."""
    if isinstance(node, list):
        return [_bundle(v, definitions, found) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        prefix = next((p for p in _REFS if isinstance(value, str) and value.startswith(p)), None)
        if key == "$ref" and prefix is not None:
            name = value[len(prefix) :]
            out[key] = f"#/definitions/{name}"
            if name not in found:
                found[name] = {}  # a recursive definition refers back to itself
                found[name] = _bundle(copy.deepcopy(definitions[name]), definitions, found)
        else:
            out[key] = _bundle(value, definitions, found)
    return out


def schemas() -> Path:
    """The folder of standalone strict schemas (made from kubernetes-validate on first use)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        raise RuntimeError("kubernetes-validate is not installed (a dev dependency: make install)")
    version = f"v{KUBERNETES_VERSION}"
    source = Path(spec.origin).parent / "kubernetes-json-schema"
    source = source / f"{version}-local-strict"
    root = CACHE / "k8s-schemas" / f"kubernetes-validate-{_package_version()}"
    out = root / f"{version}-standalone-strict"
    if not all((out / f"{kind}.json").is_file() for kind in KINDS):
        definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
        out.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            found: dict[str, Any] = {}
            doc = _bundle(json.loads((source / f"{kind}.json").read_text()), definitions, found)
            doc["definitions"] = found
            tmp = out / f".{kind}.json"
            tmp.write_text(json.dumps(doc))
            tmp.replace(out / f"{kind}.json")
    return root


def _package_version() -> str:
    from importlib.metadata import version

    return version("kubernetes-validate")


def validate(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    """Run kubeconform -strict on ``paths`` against the offline schemas; its result."""
    location = str(schemas()) + (
        "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    argv = [str(kubeconform()), "-strict", "-summary", "-kubernetes-version", KUBERNETES_VERSION,
            "-schema-location", location, *map(str, paths)]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or [HERE / "manifests"]
    result = validate(paths)
    print(result.stdout + result.stderr, end="")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
