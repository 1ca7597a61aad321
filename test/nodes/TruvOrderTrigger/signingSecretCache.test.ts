import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import {
	forgetSigningSecrets,
	SIGNING_SECRET_TTL_MS,
} from '../../../nodes/TruvOrderTrigger/signingSecretCache';
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

async function deliverSigned(
	credential: ReturnType<typeof countedCredential>,
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
	forgetSigningSecrets();
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

test('accepts a delivery signed with a secret just changed in the credential, at once', async () => {
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);
	credential.secret = ROTATED_SECRET;

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

	now += SIGNING_SECRET_TTL_MS;
	const result = await deliverSigned(credential, SANDBOX_SECRET);
	expect(result.status).toBe(401);
	expect(result.body).toMatchObject({ outcome: 'invalid_signature' });
	expect(result.workflowData).toBeUndefined();
	expect(credential.reads).toBe(2);
});

test('a forged delivery is checked against a fresh read and refused; it changes nothing remembered', async () => {
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);

	const forged = await deliverSigned(credential, 'sandbox-attacker-guess');
	expect(forged.status).toBe(401);
	expect(credential.reads).toBe(2);
	expect((await deliverSigned(credential, SANDBOX_SECRET)).status).toBe(200);
	expect(credential.reads).toBe(2);
});

test('a missing or malformed signature is refused without reading the credential again', async () => {
	const credential = countedCredential();
	await deliverSigned(credential, SANDBOX_SECRET);
	for (const header of [undefined, 'v1=zz', 'sha256=abc']) {
		const result = await deliver({
			rawBody: orderBody(),
			headers: { 'x-webhook-sign': header },
			readCredentials: credential.read,
		});
		expect(result.status).toBe(401);
	}
	expect(credential.reads).toBe(1);
});

test('each credential is remembered on its own', async () => {
	const sandbox = countedCredential(SANDBOX_SECRET);
	const other = countedCredential(ROTATED_SECRET);
	expect((await deliverSigned(sandbox, SANDBOX_SECRET, 'cred-sandbox')).status).toBe(200);
	expect((await deliverSigned(other, ROTATED_SECRET, 'cred-other')).status).toBe(200);
	// A signature valid for one credential's secret is not valid for the other trigger.
	expect((await deliverSigned(other, SANDBOX_SECRET, 'cred-other')).status).toBe(401);
	expect((await deliverSigned(sandbox, SANDBOX_SECRET, 'cred-sandbox')).status).toBe(200);
	expect([sandbox.reads, other.reads]).toEqual([1, 2]);
});
