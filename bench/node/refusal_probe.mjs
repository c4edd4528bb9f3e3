// One submitTransaction with the official Node client (@hyperledger/fabric-gateway),
// used by tests/contract/test_refusals_on_network.py to show that a chaincode refusal is
// an error to a client that is not our SDK. Usage: node refusal_probe.mjs config.json
//   config: {"peer", "tlsRootCert", "mspId", "certPath", "keyPath", "channel",
//            "chaincode", "function", "args": [...]}
// Prints {"ok": true} and exits 0 on success; on error prints
// {"error": "<class>", "message": "...", "details": ["<peer message>", ...]} and exits 1.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';

import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const client = new grpc.Client(config.peer, grpc.credentials.createSsl(readFileSync(config.tlsRootCert)));
const gateway = connect({
    client,
    identity: { mspId: config.mspId, credentials: readFileSync(config.certPath) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(readFileSync(config.keyPath))),
});
let code = 0;
try {
    const contract = gateway.getNetwork(config.channel).getContract(config.chaincode);
    await contract.submitTransaction(config.function, ...config.args);
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
} catch (error) {
    const details = (error.details ?? []).map((detail) => detail.message);
    process.stdout.write(
        JSON.stringify({ error: error.constructor.name, message: String(error.message), details }) + '\n',
    );
    code = 1;
} finally {
    gateway.close();
    client.close();
}
process.exit(code);
