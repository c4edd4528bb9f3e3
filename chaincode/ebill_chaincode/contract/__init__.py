"""The fiscal e-bill contract: units, stock, bills, reimbursement, supervision.

Modules: :mod:`.model` (data and validation), :mod:`.lifecycle` (the status machine),
:mod:`.access` (who may do what), :mod:`.keys` (state keys and indexes),
:mod:`.privacy` (payer hash, transient and private data), :mod:`.anomalies` (the
anomaly log), :mod:`.ledger` (record and query helpers), :mod:`.router` (the one
Contract every function registers on), and the transaction functions by area:
:mod:`.units`, :mod:`.stock`, :mod:`.bills`, :mod:`.reimbursement`, :mod:`.supervision`,
:mod:`.orgs` (orgs that joined the channel later).
"""

from . import anomalies, bills, orgs, reimbursement, stock, supervision, units
from .router import contract

__all__ = [
    "anomalies",
    "bills",
    "contract",
    "orgs",
    "reimbursement",
    "stock",
    "supervision",
    "units",
]
