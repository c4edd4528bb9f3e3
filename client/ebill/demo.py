"""``python -m ebill.demo``: a bill's life on the running network, told step by step.

Issues a bill as a hospital, reads it back through every org's peer, verifies it
with its check code as an insurer would, and shows the chain refusing a
duplicate, an identity without the issuer role and a bill that does not exist.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import fabricgw
from ebill_network.layout import layout_from_env

from .connection import connect, load_description
from .samples import OUTPATIENT_CODE, outpatient_bill


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} yuan"


def step(text: str) -> None:
    print(f"\n== {text}")


def main() -> int:
    description = load_description(layout_from_env().network_file())
    number = time.strftime("%m%d%H%M%S")  # a fresh 10-digit number per run
    bill = outpatient_bill(number)

    step("海南省人民医院 (unit HN0101, UnitsMSP, role issuer) issues an outpatient bill")
    with connect(description, "units", "hospital1") as hospital:
        started = time.perf_counter()
        record: dict[str, Any] = json.loads(
            hospital.contract.submit_transaction("IssueBill", json.dumps(bill, ensure_ascii=False))
        )
        print(f"   bill {record['billCode']}/{record['billNumber']}  {yuan(record['totalAmount'])}")
        status, check = record["status"], record["checkCode"]
        print(f"   status {status}, check code {check} (derived on chain)")
        elapsed = time.perf_counter() - started
        print(f"   endorsed by finance + units, ordered, committed in {elapsed:.2f}s")

        step("every org reads it back from its own peer")
        readers = {
            "finance": "finance1",
            "units": "hospital1",
            "insurance": "medins1",
            "audit": "auditor1",
        }
        for org, user in readers.items():
            with connect(description, org, user) as reader:
                stored = json.loads(
                    reader.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, number)
                )
                print(
                    f"   {reader.msp_id:<13} peer {description['orgs'][org]['peer']}: "
                    f"{stored['status']}, {yuan(stored['totalAmount'])}, "
                    f"payer hash {stored['payerHash'][:12]}..."
                )

        step("the medical-insurance centre verifies it with code + number + check code")
        with connect(description, "insurance", "medins1") as insurer:
            ok = json.loads(
                insurer.contract.evaluate_transaction(
                    "VerifyBill", OUTPATIENT_CODE, number, record["checkCode"]
                )
            )
            print(f"   genuine={ok['genuine']} status={ok['status']} unit={ok['unitName']}")
            bad = json.loads(
                insurer.contract.evaluate_transaction(
                    "VerifyBill", OUTPATIENT_CODE, number, "ZZZZZZ"
                )
            )
            print(f"   with a wrong check code: genuine={bad['genuine']} ({bad.get('reason', '')})")

        step("the chain refuses what breaks a rule")
        try:
            hospital.contract.submit_transaction("IssueBill", json.dumps(bill, ensure_ascii=False))
            print("   UNEXPECTED: a duplicate was accepted")
            return 1
        except fabricgw.EndorseError as err:
            print(f"   same bill again      -> {err.chaincode_message}")
        with connect(description, "units", "clerk1") as clerk:
            try:
                clerk.contract.submit_transaction(
                    "IssueBill", json.dumps(outpatient_bill("9" + number[1:]))
                )
                print("   UNEXPECTED: a clerk issued a bill")
                return 1
            except fabricgw.EndorseError as err:
                print(f"   clerk without role   -> {err.chaincode_message}")
        try:
            hospital.contract.evaluate_transaction("ReadBill", OUTPATIENT_CODE, "0000000000")
        except fabricgw.EvaluateError as err:
            print(f"   unknown bill         -> {err.chaincode_message}")
    print("\ndemo: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
