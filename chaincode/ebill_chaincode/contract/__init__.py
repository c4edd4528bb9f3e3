"""The fiscal e-bill contract: units, stock, bills, reimbursement, supervision.

Modules: :mod:`.model` (data and validation), :mod:`.lifecycle` (the status machine),
:mod:`.access` (who may do what), :mod:`.keys` (state keys and indexes),
:mod:`.privacy` (payer hash, transient and private data), :mod:`.anomalies` (the
anomaly log), :mod:`.ledger` (record and query helpers), :mod:`.router` (the one
Contract every function registers on), and the transaction functions by area:
:mod:`.units`, :mod:`.stock`, :mod:`.bills`, :mod:`.reimbursement`, :mod:`.supervision`.

The interface (:mod:`.interface`: every function, its arguments, roles, transient keys,
result, refusal codes and event; :mod:`.records`: the record types; :mod:`.vocabulary`:
the shared words) is declared once; importing this package checks that the registered
functions match it (:class:`~.interface.InterfaceMismatch` otherwise), and
:mod:`.metadata` answers it as ``org.hyperledger.fabric:GetMetadata``.
"""

from . import anomalies, bills, interface, metadata, reimbursement, stock, supervision, units
from .router import contract

# The registered functions must be those the interface declares (InterfaceMismatch).
interface.check_contract(contract.functions)

__all__ = [
    "anomalies",
    "bills",
    "contract",
    "interface",
    "metadata",
    "reimbursement",
    "stock",
    "supervision",
    "units",
]
