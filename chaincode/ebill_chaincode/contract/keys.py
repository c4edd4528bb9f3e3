"""Every state key of the contract, built in one place.

Why not Fabric composite keys: a chaincode may range-query only *simple* keys (the
shim refuses a range that starts in the composite-key namespace U+0000, as Go's shim
does), and our lists need ranges over dates and bill numbers. So every key here is a
simple key made of ordered parts::

    <type> U+0000 <part> U+0000 <part> U+0000 ...

No part contains U+0000 or U+10FFFF (the contract validates every part; :func:`key`
checks again), so the byte order of keys (LevelDB's order, and UTF-8 keeps code point
order) is the order of the part tuples, and everything whose first parts are
``(p1, ..., pk)`` lies in ``[key(t, p1..pk), key(t, p1..pk) + U+10FFFF)``.

=====================================================  ==================================
key                                                    value
=====================================================  ==================================
unit / unitCode                                        unit record
stock / batchId                                        stock batch (application) record
stock~unit / unitCode / billCode / start / batchId     marker: ListStock
stockopen / unitCode / billCode                        {batchId}: the unit's one pending
                                                       or approved, unreconciled batch
                                                       of that code
stockrange / billCode / endNumber                      {batchId, unitCode, startNumber,
                                                       endNumber}: approved ranges
bill / billCode / billNumber                           public bill record; the same key
                                                       in collection billPrivate holds
                                                       the private part
billseal / billCode / billNumber (billPrivate only)    the seal IssueBill checks by hash
bill~unit / unitCode / yyyymmdd / billCode / number    marker
bill~payer / payerHash / billCode / billNumber         marker
bill~status / status / billCode / billNumber           marker
bill~period / yyyymm / billCode / billNumber           marker
anomaly / yyyymmdd / txId                              anomaly record
anomaly~type / type / yyyymmdd / txId                  marker
org / mspId                                            org registry record (RegisterOrg)
=====================================================  ==================================

Index values are the one byte ``MARKER``: Fabric treats an empty value as a delete.
The approved ranges are keyed by their *end* number: ranges of one code never overlap,
so the first range whose end is at or after a number is the only one that can hold it
(Fabric iterators run forward only; one read answers "which batch holds n" and "does a
new range overlap an approved one").
"""

from __future__ import annotations

from ..shim.errors import InvalidArgument

SEPARATOR = "\x00"
MAX_RUNE = "\U0010ffff"
MARKER = b"\x00"

UNIT = "unit"
STOCK = "stock"
STOCK_BY_UNIT = "stock~unit"
STOCK_OPEN = "stockopen"
STOCK_RANGE = "stockrange"
BILL = "bill"
BILL_SEAL = "billseal"
BILL_BY_UNIT = "bill~unit"
BILL_BY_PAYER = "bill~payer"
BILL_BY_STATUS = "bill~status"
BILL_BY_PERIOD = "bill~period"
ANOMALY = "anomaly"
ANOMALY_BY_TYPE = "anomaly~type"
ORG = "org"

Bounds = tuple[str, str]


def key(object_type: str, *parts: str) -> str:
    """The simple key ``type U+0000 part U+0000 ...``."""
    for part in (object_type, *parts):
        if SEPARATOR in part or MAX_RUNE in part:
            raise InvalidArgument("key parts must not contain U+0000 or U+10FFFF")
    return object_type + SEPARATOR + "".join(part + SEPARATOR for part in parts)


def split(stored_key: str) -> list[str]:
    """The parts of a key made by :func:`key`, without the type."""
    return stored_key.split(SEPARATOR)[1:-1]


def starting_with(object_type: str, *parts: str) -> Bounds:
    """Range bounds [start, end) of every key whose first parts are ``parts``."""
    start = key(object_type, *parts)
    return start, start + MAX_RUNE


def between(object_type: str, fixed: tuple[str, ...], first: str, last: str) -> Bounds:
    """Keys with the parts ``fixed`` followed by a part from ``first`` to ``last`` inclusive."""
    return key(object_type, *fixed, first), key(object_type, *fixed, last) + MAX_RUNE


def unit(unit_code: str) -> str:
    return key(UNIT, unit_code)


def stock(batch_id: str) -> str:
    return key(STOCK, batch_id)


def stock_by_unit(unit_code: str, bill_code: str, start_number: str, batch_id: str) -> str:
    return key(STOCK_BY_UNIT, unit_code, bill_code, start_number, batch_id)


def stock_open(unit_code: str, bill_code: str) -> str:
    return key(STOCK_OPEN, unit_code, bill_code)


def stock_range(bill_code: str, end_number: str) -> str:
    return key(STOCK_RANGE, bill_code, end_number)


def bill(bill_code: str, bill_number: str) -> str:
    return key(BILL, bill_code, bill_number)


def bill_seal(bill_code: str, bill_number: str) -> str:
    """In collection billPrivate: the seal binding a deposited private part to its bill."""
    return key(BILL_SEAL, bill_code, bill_number)


def bill_by_unit(unit_code: str, day: str, bill_code: str, bill_number: str) -> str:
    return key(BILL_BY_UNIT, unit_code, day, bill_code, bill_number)


def bill_by_payer(payer_hash: str, bill_code: str, bill_number: str) -> str:
    return key(BILL_BY_PAYER, payer_hash, bill_code, bill_number)


def bill_by_status(status: str, bill_code: str, bill_number: str) -> str:
    return key(BILL_BY_STATUS, status, bill_code, bill_number)


def bill_by_period(period: str, bill_code: str, bill_number: str) -> str:
    return key(BILL_BY_PERIOD, period, bill_code, bill_number)


def anomaly(day: str, tx_id: str) -> str:
    return key(ANOMALY, day, tx_id)


def anomaly_by_type(anomaly_type: str, day: str, tx_id: str) -> str:
    return key(ANOMALY_BY_TYPE, anomaly_type, day, tx_id)


def org(msp_id: str) -> str:
    """An org that joined later: its part (insurance, units, audit) and ids (RegisterOrg)."""
    return key(ORG, msp_id)
