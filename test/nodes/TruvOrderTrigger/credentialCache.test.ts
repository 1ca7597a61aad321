import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import {
	forgetRememberedCredentials,
	MISMATCH_REREAD_INTERVAL_MS,
	CREDENTIAL_TTL_MS,
} from '../../../nodes/TruvOrderTrigger/credentialCache';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';
import { deliver, SANDBOX_SECRET, truvCredentials } from '../../../dev/n8n-core/n8nContexts';

const ROTATED_SECRET = 'sandbox-rotated-0000000000000000000000';

let sequence = 0;
function orderBody(): Buffer {
	sequence += 1;
	return Buffer.from(
		JSON.stringify({ ...fixtureJson('order-created'), webhook_id: `cache-${sequence}` }),
	);
}

/** A credential whose secret the test can change, counting how often the node reads it. */
function countedCredential(secret = SANDBOX_SECRET) {
	const credential = {
		secret,
		reads: 0,
		read: (): ICredentialDataDecryptedObject => {
			credential.reads += 1;
			return truvCredentials({ accessSecret: credential.secret });
		},
	};
	return credential;
}

/**
 * A counted credential whose reads stay open until the test settles them: each read waits for the
 * next `finishReads()` or `failReads()`, so that deliveries overlap while the credential is read.
 */
function heldCredential() {
	let settle: Array<(error?: Error) => void> = [];
	const credential = {
		secret: SANDBOX_SECRET,
		reads: 0,
		read: async (): Promise<ICredentialDataDecryptedObject> => {
			credential.reads += 1;
			await new Promise<void>((resolve, reject) => {
				settle.push((error) => (error ? reject(error) : resolve()));
			});
			return truvCredentials({ accessSecret: credential.secret });
		},
		settleReads(error?: Error) {
			const pending = settle;
			settle = [];
			for (const finish of pending) finish(error);
			return pending.length;
		},
	};
	return credential;
}

/** Lets every delivery in progress run until it waits for something outside the microtask queue. */
async function letDeliveriesRun(): Promise<void> {
	for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

async function deliverSigned(
	credential: Pick<ReturnType<typeof countedCredential | typeof heldCredential>, 'read'>,
	signWith: string,
	credentialId = 'cred-1',
) {
	const body = orderBody();
	return await deliver({
		rawBody: body,
		headers: signedHeaders(body, signWith),
		readCredentials: credential.read,
		credentialId,
	});
}

let now = Date.parse('2026-11-27T12:00:00Z');
beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
	jest.spyOn(Date, 'now').mockImplementation(() => now);
});
afterEach(() => jest.restoreAllMocks());

test('reads the credential once for many genuine deliveries', async () => {
	const credential = countedCredential();
	for (let delivery = 0; delivery < 5; delivery += 1) {
		expect((await deliverSigned(credential, SANDBOX_SECRET)).status).toBe(200);
	}
	expect(credential.reads).toBe(1);
});

test('a secret changed in the credential is accepted once the remembered copy is 10 s old, well before the minute', async () => {
	expect(MISMATCH_REREAD_INTERVAL_MS).toBe(10_000);
	expect(MISMATCH_REREAD_INTERVAL_MS).toBeLessThan(CREDENTIAL_TTL_MS);
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);
	credential.secret = ROTATED_SECRET;

	// Within the interval, the remembered secrets decide: refused (Truv retries it), not read.
	now += MISMATCH_REREAD_INTERVAL_MS - 1;
	expect((await deliverSigned(credential, ROTATED_SECRET)).status).toBe(401);
	expect(credential.reads).toBe(1);

	now += 1;
	const result = await deliverSigned(credential, ROTATED_SECRET);
	expect(result.status).toBe(200);
	expect(result.workflowData).toBeDefined();
	expect(credential.reads).toBe(2);
	// The new secret is what is remembered now.
	expect((await deliverSigned(credential, ROTATED_SECRET)).status).toBe(200);
	expect(credential.reads).toBe(2);
});

test('refuses the removed secret once the remembered one has expired', async () => {
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);
	credential.secret = ROTATED_SECRET;

	now += CREDENTIAL_TTL_MS;
	const result = await deliverSigned(credential, SANDBOX_SECRET);
	expect(result.status).toBe(401);
	expect(result.body).toMatchObject({ outcome: 'invalid_signature' });
	expect(result.workflowData).toBeUndefined();
	expect(credential.reads).toBe(2);
});

test('a flood of forged deliveries reads the credential at most once per interval', async () => {
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);

	// 250 forged requests, one every 200 ms: 50 s, five intervals, inside the minute's TTL.
	const statuses = new Set<number>();
	for (let forged = 1; forged <= 250; forged += 1) {
		now += 200;
		statuses.add((await deliverSigned(credential, 'sandbox-attacker-guess')).status);
	}
	expect([...statuses]).toEqual([401]);
	expect(credential.reads).toBe(1 + 5);

	// Twenty at once, just after an interval has passed: one read between them.
	now += MISMATCH_REREAD_INTERVAL_MS;
	const concurrent = await Promise.all(
		Array.from({ length: 20 }, async () => await deliverSigned(credential, 'sandbox-other-guess')),
	);
	expect(new Set(concurrent.map(({ status }) => status))).toEqual(new Set([401]));
	expect(credential.reads).toBe(7);

	// None of it changed what is remembered: genuine deliveries still pass without a read.
	expect((await deliverSigned(credential, SANDBOX_SECRET)).status).toBe(200);
	expect(credential.reads).toBe(7);
});

test('a missing or malformed signature is refused without reading the credential, even when none is remembered', async () => {
	const credential = countedCredential();
	const refuse = async () => {
		for (const header of [undefined, 'v1=zz', 'sha256=abc', `v1=${'0'.repeat(63)}`]) {
			const result = await deliver({
				rawBody: orderBody(),
				headers: { 'x-webhook-sign': header },
				readCredentials: credential.read,
			});
			expect(result.status).toBe(401);
			expect(result.body).toMatchObject({ outcome: 'invalid_signature' });
		}
	};
	await refuse();
	expect(credential.reads).toBe(0);

	await deliverSigned(credential, SANDBOX_SECRET);
	now += MISMATCH_REREAD_INTERVAL_MS;
	await refuse();
	expect(credential.reads).toBe(1);
});

test('twenty concurrent genuine deliveries on a cold cache read the credential once', async () => {
	const credential = heldCredential();
	const deliveries = Array.from(
		{ length: 20 },
		async () => await deliverSigned(credential, SANDBOX_SECRET),
	);
	await letDeliveriesRun();
	const readsOpen = credential.settleReads();
	const results = await Promise.all(deliveries);
	expect(readsOpen).toBe(1);
	expect(results.map(({ status }) => status)).toEqual(Array(20).fill(200));
	expect(credential.reads).toBe(1);
});

test('a failed read answers the deliveries waiting for it 503, and is tried again only after the interval', async () => {
	const credential = heldCredential();
	const deliveries = Array.from(
		{ length: 5 },
		async () => await deliverSigned(credential, SANDBOX_SECRET),
	);
	await letDeliveriesRun();
	const readsOpen = credential.settleReads(new Error('Credentials could not be decrypted'));
	const answered = await Promise.all(deliveries);
	expect(readsOpen).toBe(1);
	expect(answered.map(({ status }) => status)).toEqual(Array(5).fill(503));
	expect(answered[0].body.message).toMatch(/credential cannot be read.*could not be decrypted/);
	expect(answered.every(({ workflowData }) => workflowData === undefined)).toBe(true);
	expect(credential.reads).toBe(1);

	// A flood of (forged) requests right after reads nothing: the failure is remembered a while.
	expect((await deliverSigned(credential, SANDBOX_SECRET)).status).toBe(503);
	expect(credential.reads).toBe(1);

	now += MISMATCH_REREAD_INTERVAL_MS;
	const next = deliverSigned(credential, SANDBOX_SECRET);
	await letDeliveriesRun();
	credential.settleReads();
	expect((await next).status).toBe(200);
	expect(credential.reads).toBe(2);
});

test('each credential is remembered, and read again for a mismatch, on its own', async () => {
	const sandbox = countedCredential(SANDBOX_SECRET);
	const other = countedCredential(ROTATED_SECRET);
	expect((await deliverSigned(sandbox, SANDBOX_SECRET, 'cred-sandbox')).status).toBe(200);
	now += MISMATCH_REREAD_INTERVAL_MS;
	expect((await deliverSigned(other, ROTATED_SECRET, 'cred-other')).status).toBe(200);
	// A signature valid for one credential's secret is not valid for the other trigger; the
	// mismatch re-reads the sandbox credential (its copy is 10 s old), not the fresh other one.
	expect((await deliverSigned(other, SANDBOX_SECRET, 'cred-other')).status).toBe(401);
	expect((await deliverSigned(sandbox, ROTATED_SECRET, 'cred-sandbox')).status).toBe(401);
	expect([sandbox.reads, other.reads]).toEqual([2, 1]);
	expect((await deliverSigned(sandbox, SANDBOX_SECRET, 'cred-sandbox')).status).toBe(200);
	expect([sandbox.reads, other.reads]).toEqual([2, 1]);
});
