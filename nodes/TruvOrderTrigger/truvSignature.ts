import { createHmac, timingSafeEqual } from 'crypto';

const SIGNATURE_PREFIX = 'v1=';
// Truv sends lowercase hex; uppercase encodes the same digest, so it is accepted too.
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

export type SignatureCheck =
	| { valid: true }
	| { valid: false; reason: 'missing' | 'malformed' | 'mismatch'; message: string };

/** `v1=` + lowercase hex HMAC-SHA256 of the exact body bytes, as Truv signs deliveries. */
export function signTruvPayload(rawBody: Buffer | string, secret: string): string {
	return SIGNATURE_PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}

/**
 * Checks an `X-WEBHOOK-SIGN` header against the raw body with each secret in turn (Truv allows two
 * active secrets per environment during a rotation). Only the raw bytes are signed: re-serialising
 * parsed JSON would change whitespace and key order and break genuine signatures.
 */
export function verifyTruvSignature(
	rawBody: Buffer,
	header: string | string[] | undefined,
	secrets: readonly string[],
): SignatureCheck {
	// Node joins repeated headers into an array; a delivery carries exactly one signature.
	if (header === undefined || header === '' || (Array.isArray(header) && header.length === 0)) {
		return {
			valid: false,
			reason: 'missing',
			message: 'The X-WEBHOOK-SIGN header is missing: this request was not signed by Truv',
		};
	}
	if (Array.isArray(header)) {
		return {
			valid: false,
			reason: 'malformed',
			message: 'The request carries more than one X-WEBHOOK-SIGN header',
		};
	}
	const value = header.trim();
	const digest = value.slice(SIGNATURE_PREFIX.length);
	if (!value.startsWith(SIGNATURE_PREFIX) || !HEX_DIGEST.test(digest)) {
		return {
			valid: false,
			reason: 'malformed',
			message:
				'The X-WEBHOOK-SIGN header is malformed: expected "v1=" followed by 64 hex characters',
		};
	}
	const received = Buffer.from(digest, 'hex');
	for (const secret of secrets) {
		if (!secret) continue;
		const expected = createHmac('sha256', secret).update(rawBody).digest();
		if (timingSafeEqual(expected, received)) return { valid: true };
	}
	return {
		valid: false,
		reason: 'mismatch',
		message:
			"The X-WEBHOOK-SIGN signature does not match the body and the credential's Access Secret",
	};
}
