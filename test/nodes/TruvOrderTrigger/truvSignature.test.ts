import {
	signTruvPayload,
	verifyTruvSignature,
} from '../../../nodes/TruvOrderTrigger/truvSignature';
import { fixtureBytes, fixtureNames } from '../../helpers/fixtures';
import { TRUV_SIGNATURE_VECTORS } from '../../helpers/signatureVectors';

const SECRET = 'sandbox-primary-secret';
const SECONDARY = 'sandbox-rotated-secret';

describe('Truv signature test vectors (truv-api.md)', () => {
	test.each(TRUV_SIGNATURE_VECTORS)('secret %s signs %s as %s', (secret, body, signature) => {
		expect(signTruvPayload(Buffer.from(body), secret)).toBe(signature);
		expect(verifyTruvSignature(Buffer.from(body), signature, [secret])).toEqual({ valid: true });
	});
});

describe('verifyTruvSignature', () => {
	test.each(fixtureNames)('accepts fixture %s signed over its exact bytes', (name) => {
		const body = fixtureBytes(name);
		expect(verifyTruvSignature(body, signTruvPayload(body, SECRET), [SECRET]).valid).toBe(true);
	});

	test('checks the raw bytes, not the JSON they encode', () => {
		const original = fixtureBytes('order-created');
		const reserialised = Buffer.from(JSON.stringify(JSON.parse(original.toString())));
		expect(reserialised.equals(original)).toBe(false);
		// Each byte sequence verifies against its own signature only.
		expect(
			verifyTruvSignature(reserialised, signTruvPayload(reserialised, SECRET), [SECRET]).valid,
		).toBe(true);
		expect(
			verifyTruvSignature(reserialised, signTruvPayload(original, SECRET), [SECRET]),
		).toMatchObject({
			valid: false,
			reason: 'mismatch',
		});
	});

	test('rejects a tampered body', () => {
		const body = fixtureBytes('order-status-updated-completed');
		const tampered = Buffer.from(body.toString().replace('"completed"', '"canceled"'));
		expect(verifyTruvSignature(tampered, signTruvPayload(body, SECRET), [SECRET])).toMatchObject({
			valid: false,
			reason: 'mismatch',
		});
	});

	test('rejects a signature made with another secret', () => {
		const body = fixtureBytes('order-created');
		expect(
			verifyTruvSignature(body, signTruvPayload(body, 'sandbox-someone-else'), [SECRET]),
		).toMatchObject({
			valid: false,
			reason: 'mismatch',
		});
	});

	test('accepts a delivery signed with the secondary secret during a rotation', () => {
		const body = fixtureBytes('order-created');
		expect(
			verifyTruvSignature(body, signTruvPayload(body, SECONDARY), [SECRET, SECONDARY]),
		).toEqual({
			valid: true,
		});
		expect(verifyTruvSignature(body, signTruvPayload(body, SECONDARY), [SECRET]).valid).toBe(false);
	});

	test('rejects another scheme such as v2=', () => {
		const body = fixtureBytes('order-created');
		const v2 = signTruvPayload(body, SECRET).replace(/^v1=/, 'v2=');
		expect(verifyTruvSignature(body, v2, [SECRET])).toMatchObject({
			valid: false,
			reason: 'malformed',
		});
	});

	test.each([
		['absent', undefined],
		['empty', ''],
		['an empty list', []],
	])('reports a missing signature when the header is %s', (_label, header) => {
		expect(verifyTruvSignature(fixtureBytes('order-created'), header, [SECRET])).toMatchObject({
			valid: false,
			reason: 'missing',
		});
	});

	test.each([
		['v1= alone', 'v1='],
		['a short digest', 'v1=abcdef'],
		['non-hex characters', `v1=${'z'.repeat(64)}`],
		['two signatures joined', `v1=${'a'.repeat(64)}, v1=${'b'.repeat(64)}`],
	])('reports a malformed header: %s', (_label, header) => {
		expect(verifyTruvSignature(fixtureBytes('order-created'), header, [SECRET])).toMatchObject({
			valid: false,
			reason: 'malformed',
		});
	});

	test('rejects repeated headers delivered as a list', () => {
		const body = fixtureBytes('order-created');
		const signature = signTruvPayload(body, SECRET);
		expect(verifyTruvSignature(body, [signature, signature], [SECRET]).valid).toBe(false);
	});

	test('accepts uppercase hex and surrounding whitespace: the same digest', () => {
		const body = fixtureBytes('order-created');
		const signature = signTruvPayload(body, SECRET);
		const upper = `v1=${signature.slice(3).toUpperCase()}`;
		expect(verifyTruvSignature(body, upper, [SECRET]).valid).toBe(true);
		expect(verifyTruvSignature(body, ` ${signature} `, [SECRET]).valid).toBe(true);
	});

	test('never accepts anything when no secret is configured', () => {
		const body = fixtureBytes('order-created');
		expect(verifyTruvSignature(body, signTruvPayload(body, ''), ['']).valid).toBe(false);
		expect(verifyTruvSignature(body, signTruvPayload(body, SECRET), []).valid).toBe(false);
	});
});
