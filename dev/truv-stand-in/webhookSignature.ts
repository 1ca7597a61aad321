import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-WEBHOOK-SIGN';

/**
 * The `X-WEBHOOK-SIGN` value Truv sends: `v1=` and the lowercase hex HMAC-SHA256 of the raw
 * body bytes, keyed with the environment's access secret. Callers must pass the bytes that go
 * on the wire; signing re-serialised JSON would hide whitespace and key-order differences.
 */
export function signTruvWebhookBody(body: Buffer | string, secret: string): string {
	return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
