import type { INode, IWebhookFunctions } from 'n8n-workflow';

import {
	readTruvCredentials,
	signingSecrets,
	TRUV_CREDENTIAL_TYPE,
} from '../Truv/shared/truvTransport';
import type { TruvCredentials } from '../Truv/shared/truvTransport';
import { verifyTruvSignature } from './truvSignature';
import type { SignatureCheck } from './truvSignature';

/**
 * How long a credential read from n8n is reused without reading it again. Reading a credential
 * from a webhook costs n8n 2.x an expression sandbox (~100 ms of CPU), more than the whole rest of
 * a delivery. A secret changed in the credential is picked up at once (a signature that fails
 * against the remembered secrets is checked again against freshly read ones), so this only bounds
 * how long a secret removed from the credential is still accepted, and how long a changed Client
 * ID or Base URL takes to reach the order details lookup.
 */
export const SIGNING_SECRET_TTL_MS = 60_000;

interface RememberedCredential {
	credentials: TruvCredentials;
	secrets: string[];
	readAt: number;
}

// Keyed by credential id: the same credential used by several triggers is read once.
const rememberedCredentials = new Map<string, RememberedCredential>();

function credentialIdOf(node: INode): string | undefined {
	return node.credentials?.[TRUV_CREDENTIAL_TYPE]?.id ?? undefined;
}

function remembered(id: string | undefined): RememberedCredential | undefined {
	const entry = id === undefined ? undefined : rememberedCredentials.get(id);
	return entry && Date.now() - entry.readAt < SIGNING_SECRET_TTL_MS ? entry : undefined;
}

async function readCredential(
	context: IWebhookFunctions,
	id: string | undefined,
): Promise<RememberedCredential> {
	const credentials = await readTruvCredentials(context);
	const entry = { credentials, secrets: signingSecrets(credentials), readAt: Date.now() };
	if (id !== undefined) rememberedCredentials.set(id, entry);
	return entry;
}

/**
 * Checks a delivery's `X-WEBHOOK-SIGN` against the trigger's credential, reading the credential
 * only when it is not remembered, was read more than {@link SIGNING_SECRET_TTL_MS} ago, or its
 * secrets do not match.
 */
export async function verifyDeliverySignature(
	context: IWebhookFunctions,
	node: INode,
	rawBody: Buffer,
	header: string | string[] | undefined,
): Promise<SignatureCheck> {
	const id = credentialIdOf(node);
	const entry = remembered(id);
	if (entry) {
		const check = verifyTruvSignature(rawBody, header, entry.secrets);
		// Only a wrong digest can be cured by a changed secret; a missing or malformed header cannot.
		if (check.valid || check.reason !== 'mismatch') return check;
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
	if (id !== undefined) rememberedCredentials.delete(id);
}

/** Forgets every remembered credential, as a restart of n8n does. For tests. */
export function forgetSigningSecrets(): void {
	rememberedCredentials.clear();
}
