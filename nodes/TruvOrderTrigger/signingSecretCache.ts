import type { INode, IWebhookFunctions } from 'n8n-workflow';

import {
	readTruvCredentials,
	signingSecrets,
	TRUV_CREDENTIAL_TYPE,
} from '../Truv/shared/truvTransport';
import { verifyTruvSignature } from './truvSignature';
import type { SignatureCheck } from './truvSignature';

/**
 * How long secrets read from the credential are reused without reading it again. Reading a
 * credential from a webhook costs n8n 2.x an expression sandbox (~100 ms of CPU), more than the
 * whole rest of a delivery. A secret changed in the credential is picked up at once (a signature
 * that fails against the remembered secrets is checked again against freshly read ones), so this
 * only bounds how long a secret removed from the credential is still accepted.
 */
export const SIGNING_SECRET_TTL_MS = 60_000;

interface RememberedSecrets {
	secrets: string[];
	readAt: number;
}

// Keyed by credential id: the same credential used by several triggers is read once.
const rememberedSecrets = new Map<string, RememberedSecrets>();

async function readSecrets(context: IWebhookFunctions, id: string | undefined): Promise<string[]> {
	const secrets = signingSecrets(await readTruvCredentials(context));
	if (id !== undefined) rememberedSecrets.set(id, { secrets, readAt: Date.now() });
	return secrets;
}

/**
 * Checks a delivery's `X-WEBHOOK-SIGN` against the trigger's credential, reading the credential
 * only when its secrets are not remembered, are older than {@link SIGNING_SECRET_TTL_MS}, or fail.
 */
export async function verifyDeliverySignature(
	context: IWebhookFunctions,
	node: INode,
	rawBody: Buffer,
	header: string | string[] | undefined,
): Promise<SignatureCheck> {
	const id = node.credentials?.[TRUV_CREDENTIAL_TYPE]?.id ?? undefined;
	const remembered = id === undefined ? undefined : rememberedSecrets.get(id);
	if (remembered && Date.now() - remembered.readAt < SIGNING_SECRET_TTL_MS) {
		const check = verifyTruvSignature(rawBody, header, remembered.secrets);
		// Only a wrong digest can be cured by a changed secret; a missing or malformed header cannot.
		if (check.valid || check.reason !== 'mismatch') return check;
	}
	return verifyTruvSignature(rawBody, header, await readSecrets(context, id));
}

/** Forgets every remembered secret, as a restart of n8n does. For tests. */
export function forgetSigningSecrets(): void {
	rememberedSecrets.clear();
}
