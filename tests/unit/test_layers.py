"""Dependencies run one way: chaincode <- client <- network tools, read from the imports.

Every ``import`` and ``from ... import`` in a package's modules (at any depth, in
function bodies too) is collected from the source, so a new import that crosses a
layer fails here before it is merged.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "ebill_chaincode": ROOT / "chaincode" / "ebill_chaincode",
    "fabricgw": ROOT / "client" / "fabricgw",
    "fabricca": ROOT / "client" / "fabricca",
    "ebill": ROOT / "client" / "ebill",
    "ebill_network": ROOT / "network" / "ebill_network",
    "ebill_service": ROOT / "service" / "ebill_service",
    "ebill_portal": ROOT / "portal" / "ebill_portal",
}


def imported_packages(source: str) -> set[str]:
    """The top-level packages that ``source`` imports by absolute name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path (relative to the repository) -> the first-party packages it imports."""
    folder = PACKAGES[package]
    modules = sorted(folder.rglob("*.py"))
    assert modules, f"no modules under {folder}"
    return {
        str(path.relative_to(ROOT)): imported_packages(path.read_text()) & set(PACKAGES)
        for path in modules
    }


def test_the_scanner_sees_imports_at_any_depth() -> None:
    source = (
        "import ebill.connection\n"
        "from fabricgw import connect\n"
        "from . import local\n"
        "def later():\n"
        "    from ebill_network.layout import Layout\n"
    )
    assert imported_packages(source) == {"ebill", "fabricgw", "ebill_network"}


def test_the_network_package_imports_no_party_client() -> None:
    offenders = {
        module: found for module, found in imports_of("ebill_network").items() if "ebill" in found
    }
    assert offenders == {}, "network/ knows no party client (ebill); probe with fabricgw"


def test_only_the_adapter_of_the_party_clients_imports_the_network() -> None:
    importers = [
        module for module, found in imports_of("ebill").items() if "ebill_network" in found
    ]
    assert importers == ["client/ebill/netops.py"]


@pytest.mark.parametrize("package", ["ebill_chaincode", "fabricgw", "fabricca"])
def test_lower_layers_import_no_party_client_nor_network(package: str) -> None:
    allowed = {
        "ebill_chaincode": {"ebill_chaincode"},
        "fabricgw": {"fabricgw"},
        "fabricca": {"fabricca"},
    }
    crossing = {
        module: found - allowed[package]
        for module, found in imports_of(package).items()
        if found - allowed[package]
    }
    assert crossing == {}


def test_the_shim_and_its_test_module_know_no_contract() -> None:
    shim = ROOT / "chaincode" / "ebill_chaincode"
    for folder in (shim / "shim", shim / "shimtest"):
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    absolute = node.level == 0 and module.startswith("ebill_chaincode.contract")
                    relative = node.level >= 2 and module.startswith("contract")
                    assert not (absolute or relative), (
                        f"{path.relative_to(ROOT)} imports the contract"
                    )


def test_the_service_sits_above_the_clients_and_nothing_imports_it() -> None:
    """chaincode <- client <- service: no lower layer imports the service, and the
    service reaches the network only through the party clients (not ebill_network)."""
    for package in (
        "ebill_chaincode",
        "fabricgw",
        "fabricca",
        "ebill",
        "ebill_network",
        "ebill_portal",
    ):
        offenders = [m for m, found in imports_of(package).items() if "ebill_service" in found]
        assert not offenders, offenders
    offenders = [m for m, found in imports_of("ebill_service").items() if "ebill_network" in found]
    assert not offenders, offenders


def test_the_portal_reaches_the_chain_only_through_the_service_http_api() -> None:
    """service <- portal: the portal imports no first-party package (it calls the
    service's HTTP API with httpx), and nothing imports the portal."""
    crossing = {
        m: found for m, found in imports_of("ebill_portal").items() if found - {"ebill_portal"}
    }
    assert crossing == {}
    for package in PACKAGES:
        if package != "ebill_portal":
            offenders = [m for m, found in imports_of(package).items() if "ebill_portal" in found]
            assert not offenders, offenders
