/**
 * The trigger's Truv API credential, remembered per credential id so that deliveries do not read
 * it each time: reading a credential from a webhook costs n8n 2.x an expression sandbox (about
 * 40 ms of CPU in n8n 2.41), as much as the whole rest of a refused request.
 *
 * The rule for reading it:
 * - a request whose `X-WEBHOOK-SIGN` is missing or malformed never reads the credential;
 * - otherwise it is read when no copy is remembered or the copy is older than
 *   {@link CREDENTIAL_TTL_MS} (60 s);
 * - a well-formed signature that matches none of the remembered secrets reads it again only when
 *   the copy is at least {@link MISMATCH_REREAD_INTERVAL_MS} (10 s) old, and is refused against
 *   the remembered secrets before that;
 * - deliveries that need the credential while it is being read share that read, and a read that
 *   fails is not remembered: the next delivery reads again.
 *
 * Why 10 s: whoever knows the webhook URL can make the trigger read the credential at most once
 * every 10 s per credential, however many forged requests they send (about 40 ms of CPU per 10 s,
 * under 0.5 % of a core), so a forged request costs n8n no more than a malformed one. A secret
 * changed in the credential is still picked up without waiting for the minute: every delivery that
 * arrives 10 s or more after the change is checked against it. One refused before then is retried
 * by Truv 30 s later and accepted if the secret was saved in n8n at least 10 s before; a rotation
 * through the Secondary Access Secret refuses none.
 */
import type { INode, IWebhookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { readTruvCredentials, signingSecrets, TRUV_CREDENTIAL_TYPE } from '../shared/truvTransport';
import type { TruvCredentials } from '../shared/truvTransport';
import { verifyTruvSignature } from './truvSignature';
import type { SignatureCheck } from './truvSignature';

/**
 * How long a credential read from n8n is reused without reading it again. This bounds how long a
 * secret removed from the credential is still accepted, and how long a changed Client ID or Base
 * URL takes to reach the order details lookup.
 */
export const CREDENTIAL_TTL_MS = 60_000;

/**
 * How old the remembered copy of a credential must be before a well-formed signature that matches
 * none of its secrets makes the trigger read the credential again (see the module's comment).
 */
export const MISMATCH_REREAD_INTERVAL_MS = 10_000;

interface RememberedCredential {
	credentials: TruvCredentials;
	secrets: string[];
	readAt: number;
}

// Keyed by credential id: the same credential used by several triggers is read once.
const rememberedCredentials = new Map<string, RememberedCredential>();
// Reads that failed, by credential id: a credential n8n cannot read (deleted, or encrypted with
// another key) is tried again at most every MISMATCH_REREAD_INTERVAL_MS, so that forged requests
// cannot make every request read it.
const failedReads = new Map<string, { error: NodeOperationError; at: number }>();
// Reads under way, by credential id: deliveries that need the credential while it is being read
// wait for that read instead of starting their own (twenty deliveries after a restart, one read).
const readsInFlight = new Map<string, Promise<RememberedCredential>>();

function credentialIdOf(node: INode): string | undefined {
	return node.credentials?.[TRUV_CREDENTIAL_TYPE]?.id ?? undefined;
}

function remembered(id: string | undefined): RememberedCredential | undefined {
	const entry = id === undefined ? undefined : rememberedCredentials.get(id);
	return entry && Date.now() - entry.readAt < CREDENTIAL_TTL_MS ? entry : undefined;
}

async function readNow(context: IWebhookFunctions): Promise<RememberedCredential> {
	const credentials = await readTruvCredentials(context);
	return { credentials, secrets: signingSecrets(credentials), readAt: Date.now() };
}

/**
 * Reads the credential, or joins the read of it already under way. A node without a credential id
 * (n8n always gives one) cannot be remembered and reads every time.
 */
async function readCredential(
	context: IWebhookFunctions,
	id: string | undefined,
): Promise<RememberedCredential> {
	if (id === undefined) return await readNow(context);
	const failed = failedReads.get(id);
	if (failed && Date.now() - failed.at < MISMATCH_REREAD_INTERVAL_MS) throw failed.error;
	const underWay = readsInFlight.get(id);
	if (underWay) return await underWay;
	const read = readNow(context);
	readsInFlight.set(id, read);
	try {
		const entry = await read;
		// A read the credential was forgotten during may carry the keys Truv just refused.
		if (readsInFlight.get(id) === read) rememberedCredentials.set(id, entry);
		failedReads.delete(id);
		return entry;
	} catch (error) {
		const failure = new NodeOperationError(context.getNode(), (error as Error).message);
		if (readsInFlight.get(id) === read) failedReads.set(id, { error: failure, at: Date.now() });
		throw failure;
	} finally {
		// The next delivery that needs the credential starts a read of its own (a failed one only
		// after MISMATCH_REREAD_INTERVAL_MS).
		if (readsInFlight.get(id) === read) readsInFlight.delete(id);
	}
}

/**
 * Checks a delivery's `X-WEBHOOK-SIGN` against the trigger's credential, reading the credential
 * only when it is not remembered, was read more than {@link CREDENTIAL_TTL_MS} ago, or its
 * secrets do not match and were read {@link MISMATCH_REREAD_INTERVAL_MS} ago or more.
 */
export async function verifyDeliverySignature(
	context: IWebhookFunctions,
	node: INode,
	rawBody: Buffer,
	header: string | string[] | undefined,
): Promise<SignatureCheck> {
	// With no secrets only the header's form is checked: no secret can cure a missing or malformed
	// signature, so such a request is refused without the credential, even when none is remembered.
	const form = verifyTruvSignature(rawBody, header, []);
	if (!form.valid && form.reason !== 'mismatch') return form;

	const id = credentialIdOf(node);
	const entry = remembered(id);
	if (entry) {
		const check = verifyTruvSignature(rawBody, header, entry.secrets);
		if (check.valid || Date.now() - entry.readAt < MISMATCH_REREAD_INTERVAL_MS) return check;
	}
	return verifyTruvSignature(rawBody, header, (await readCredential(context, id)).secrets);
}

/**
 * The trigger's Truv API credential, as remembered by the signature check (or read now and
 * remembered, when signatures are not checked): calls to Truv's API made for a delivery use it
 * instead of reading the credential again.
 */
export async function rememberedTruvCredential(
	context: IWebhookFunctions,
	node: INode,
): Promise<TruvCredentials> {
	const id = credentialIdOf(node);
	return (remembered(id) ?? (await readCredential(context, id))).credentials;
}

/** Makes the next delivery read the credential again: Truv refused the remembered keys. */
export function forgetTruvCredential(node: INode): void {
	const id = credentialIdOf(node);
	if (id === undefined) return;
	rememberedCredentials.delete(id);
	readsInFlight.delete(id);
	failedReads.delete(id);
}

/** Forgets every remembered credential, as a restart of n8n does. For tests. */
export function forgetRememberedCredentials(): void {
	rememberedCredentials.clear();
	readsInFlight.clear();
	failedReads.clear();
}
