"""A supervisor (audit office, tax, archives): reads everything, changes nothing."""

from __future__ import annotations

from .capabilities import BillReader, PrivateReader, SupervisionReads, UnitReads


class SupervisorClient(BillReader, PrivateReader, SupervisionReads, UnitReads):
    """A supervisor (role supervisor, AuditMSP): histories, lists, totals, anomalies.

    Totals over all pages: :meth:`~ebill.capabilities.UnitReads.unit_totals`.
    """
