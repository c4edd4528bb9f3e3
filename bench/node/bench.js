// The anchor of `make bench`: the official Node client, @hyperledger/fabric-gateway,
// doing the calls the Python bench (bench/gateway_bench.py) prepared, measured the
// same way. Usage: node bench/node/bench.js config.json  -> JSON results on stdout.
//
// config.json:
//   {
//     "peer": "127.0.0.1:17092", "tlsRootCert": "<path>",
//     "mspId": "UnitsMSP", "certPath": "<path>", "keyPath": "<path>",
//     "channel": "ebill", "chaincode": "ebill",
//     "finance": {"peer": "127.0.0.1:17091", "tlsRootCert": "<path>", "startBlock": 12},
//     "timeouts": {"evaluate": 5, "endorse": 15, "submit": 5, "commitStatus": 60},  (seconds)
//     "rows": [
//       {"name": "...", "kind": "evaluate" | "submit" | "issue", "inFlight": 1,
//        "warmup": false, "repeat": 1,
//        "calls": [{"function": "ReadBill", "args": ["..."], "transient": {"k": "<base64>"},
//                   "endorsingOrganizations": ["FinanceMSP", "UnitsMSP"]}]}
//     ]
//   }
//
// A call of kind "issue" is a bill's two-step issuance: {"deposit": call, "issue": call}.
// The deposit (DepositBillPrivate, endorsed by UnitsMSP) is submitted and committed,
// then the IssueBill call waits until the finance peer has the deposit's block (a
// filtered block stream from the finance peer, started at "startBlock"), since the
// finance peer's IssueBill checks the deposit, and is submitted.
//
// Each row runs its calls (each `repeat` times) with at most `inFlight` of them at
// once over the one gRPC connection. Output:
//   {"client": "...", "rows": [{"name", "kind", "inFlight", "count", "errors",
//     "latencies": [seconds...], "wallSeconds", "cpuSeconds"}]}
// Warm-up rows run but are not reported. No timing is asserted anywhere.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';

const require = createRequire(import.meta.url);
const gatewayVersion = require('@hyperledger/fabric-gateway/package.json').version;
const grpcVersion = require('@grpc/grpc-js/package.json').version;

function usage(message) {
    process.stderr.write(`${message}\nusage: node bench.js config.json\n`);
    process.exit(2);
}

function prepare(call) {
    const transient = {};
    for (const [key, value] of Object.entries(call.transient ?? {})) {
        transient[key] = Buffer.from(value, 'base64');
    }
    const options = { arguments: call.args ?? [] };
    if (Object.keys(transient).length > 0) {
        options.transientData = transient;
    }
    if (call.endorsingOrganizations) {
        options.endorsingOrganizations = call.endorsingOrganizations;
    }
    return { name: call.function, options };
}

// The highest block the finance peer has delivered; waiters for a block resolve once it is there.
class BlockHeight {
    constructor() {
        this.seen = -1n;
        this.waiters = [];
        this.failure = null;
    }

    async follow(events) {
        try {
            for await (const block of events) {
                this.seen = BigInt(block.getNumber());
                const ready = this.waiters.filter((w) => w.block <= this.seen);
                this.waiters = this.waiters.filter((w) => w.block > this.seen);
                ready.forEach((w) => w.resolve());
            }
        } catch (err) {
            this.failure = err;
            this.waiters.forEach((w) => w.reject(err));
            this.waiters = [];
        }
    }

    reach(block) {
        if (this.seen >= block) {
            return Promise.resolve();
        }
        if (this.failure) {
            return Promise.reject(this.failure);
        }
        return new Promise((resolve, reject) => this.waiters.push({ block, resolve, reject }));
    }
}

function issuer(contract, financeHeight) {
    return async (job) => {
        const commit = await contract.submitAsync(job.deposit.name, job.deposit.options);
        const status = await commit.getStatus();
        if (!status.successful) {
            throw new Error(`${job.deposit.name} ${status.transactionId} committed with code ${status.code}`);
        }
        await financeHeight.reach(status.blockNumber);
        await contract.submit(job.issue.name, job.issue.options);
    };
}

async function runRow(contract, row, financeHeight) {
    const prepared =
        row.kind === 'issue'
            ? row.calls.map((c) => ({ name: 'issue', deposit: prepare(c.deposit), issue: prepare(c.issue) }))
            : row.calls.map(prepare);
    const repeat = row.repeat ?? 1;
    const jobs = [];
    for (let r = 0; r < repeat; r++) {
        jobs.push(...prepared);
    }
    const inFlight = Math.max(1, row.inFlight ?? 1);
    const invoke =
        row.kind === 'issue'
            ? issuer(contract, financeHeight)
            : row.kind === 'submit'
              ? (job) => contract.submit(job.name, job.options)
              : (job) => contract.evaluate(job.name, job.options);

    const latencies = [];
    const failures = [];
    let next = 0;
    async function worker() {
        while (next < jobs.length) {
            const job = jobs[next++];
            const started = performance.now();
            try {
                await invoke(job);
                latencies.push((performance.now() - started) / 1000);
            } catch (err) {
                failures.push(`${job.name}: ${err?.message ?? err}`);
            }
        }
    }

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(inFlight, jobs.length) }, worker));
    const wallSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
        name: row.name,
        kind: row.kind,
        inFlight,
        count: jobs.length,
        errors: failures.length,
        firstError: failures[0] ?? null,
        latencies,
        wallSeconds,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
}

async function main() {
    const path = process.argv[2];
    if (!path) {
        usage('missing config file');
    }
    const config = JSON.parse(readFileSync(path, 'utf8'));
    const timeouts = { evaluate: 5, endorse: 15, submit: 5, commitStatus: 60, ...config.timeouts };
    const deadline = (seconds) => () => ({ deadline: Date.now() + seconds * 1000 });

    const client = new grpc.Client(
        config.peer,
        grpc.credentials.createSsl(readFileSync(config.tlsRootCert)),
        {
            'grpc.max_receive_message_length': 100 * 1024 * 1024,
            'grpc.max_send_message_length': 100 * 1024 * 1024,
            'grpc.keepalive_time_ms': 60_000,
        },
    );
    const gateway = connect({
        client,
        identity: { mspId: config.mspId, credentials: readFileSync(config.certPath) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(readFileSync(config.keyPath))),
        evaluateOptions: deadline(timeouts.evaluate),
        endorseOptions: deadline(timeouts.endorse),
        submitOptions: deadline(timeouts.submit),
        commitStatusOptions: deadline(timeouts.commitStatus),
    });
    // The same identity at the finance peer, only to follow its blocks.
    const financeClient = new grpc.Client(
        config.finance.peer,
        grpc.credentials.createSsl(readFileSync(config.finance.tlsRootCert)),
    );
    const financeGateway = connect({
        client: financeClient,
        identity: { mspId: config.mspId, credentials: readFileSync(config.certPath) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(readFileSync(config.keyPath))),
    });
    const financeBlocks = await financeGateway
        .getNetwork(config.channel)
        .getFilteredBlockEvents({ startBlock: BigInt(config.finance.startBlock) });
    const financeHeight = new BlockHeight();
    const following = financeHeight.follow(financeBlocks);
    const results = [];
    try {
        const contract = gateway.getNetwork(config.channel).getContract(config.chaincode);
        for (const row of config.rows) {
            const result = await runRow(contract, row, financeHeight);
            if (!row.warmup) {
                results.push(result);
            } else if (result.errors > 0) {
                throw new Error(`warm-up ${row.name} failed: ${result.firstError}`);
            }
        }
    } finally {
        financeBlocks.close();
        await following;
        financeGateway.close();
        financeClient.close();
        gateway.close();
        client.close();
    }
    process.stdout.write(
        `${JSON.stringify({
            client: `node @hyperledger/fabric-gateway ${gatewayVersion} (@grpc/grpc-js ${grpcVersion})`,
            node: process.version,
            rows: results,
        })}\n`,
    );
}

main().catch((err) => {
    process.stderr.write(`bench.js: ${err?.stack ?? err}\n`);
    if (err?.details) {
        process.stderr.write(`details: ${JSON.stringify(err.details)}\n`);
    }
    process.exit(1);
});
