"""Synchronous client for the Hyperledger Fabric Gateway service (Fabric v2.4+).

Typical use::

    import grpc
    import fabricgw

    channel = grpc.secure_channel("peer0.org1.example.com:7051", credentials)
    identity = fabricgw.Identity.from_pem_file("Org1MSP", "signcerts/cert.pem")
    signer = fabricgw.signer_from_pem_file("keystore/key.pem")
    with fabricgw.connect(channel, identity=identity, signer=signer) as gateway:
        contract = gateway.get_network("mychannel").get_contract("ebill")
        result = contract.submit_transaction("CreateBill", "B1", "{...}")
        bill = contract.evaluate_transaction("ReadBill", "B1")
    channel.close()  # the caller owns the channel

See :mod:`fabricgw.errors` for what is raised where.
"""

from . import hash
from .commit import Commit, Status, validation_code_name
from .contract import Contract
from .errors import (
    ChaincodeResponse,
    CommitError,
    CommitStatusError,
    EndorseError,
    ErrorDetail,
    EvaluateError,
    GatewayError,
    SubmitError,
    TransactionError,
    chaincode_message,
    parse_chaincode_response,
)
from .gateway import Gateway, connect
from .hash import NONE, SHA3_256, SHA3_384, SHA256, SHA384, Hash
from .identity import Identity
from .network import Network
from .proposal import Argument, Proposal, compute_transaction_id
from .signers import (
    Signer,
    load_private_key,
    load_private_key_file,
    new_private_key_signer,
    signer_from_msp_dir,
    signer_from_pem_file,
)
from .transaction import Transaction

__all__ = [
    "NONE",
    "SHA3_256",
    "SHA3_384",
    "SHA256",
    "SHA384",
    "Argument",
    "ChaincodeResponse",
    "Commit",
    "CommitError",
    "CommitStatusError",
    "Contract",
    "EndorseError",
    "ErrorDetail",
    "EvaluateError",
    "Gateway",
    "GatewayError",
    "Hash",
    "Identity",
    "Network",
    "Proposal",
    "Signer",
    "Status",
    "SubmitError",
    "Transaction",
    "TransactionError",
    "chaincode_message",
    "compute_transaction_id",
    "connect",
    "hash",
    "load_private_key",
    "load_private_key_file",
    "new_private_key_signer",
    "parse_chaincode_response",
    "signer_from_msp_dir",
    "signer_from_pem_file",
    "validation_code_name",
]
