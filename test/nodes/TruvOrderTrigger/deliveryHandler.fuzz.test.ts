// Property-based tests of the real webhook() with hostile and broken input. Reproduce a run with
// FUZZ_SEED=<seed printed below>; FUZZ_RUNS scales the number of cases per property.
import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { UNREADABLE_DELIVERY_FIELD } from '../../../nodes/TruvOrderTrigger/unreadableDelivery';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { MAX_DELIVERY_BYTES } from '../../../nodes/TruvOrderTrigger/deliveryHandler';
import { ORDER_EVENT_TYPES } from '../../../nodes/TruvOrderTrigger/orderEventSchemas';
import { signTruvPayload } from '../../../nodes/TruvOrderTrigger/truvSignature';
import type { DeliveryResult } from '../../../dev/n8n-core/n8nContexts';
import { deliver, SANDBOX_SECRET } from '../../../dev/n8n-core/n8nContexts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);
const PROPERTIES = 4;
const ANSWERS = new Set([200, 400, 401, 413]);

afterAll(() => {
	process.stdout.write(
		`fuzz: seed ${SEED}, ${RUNS * PROPERTIES} generated deliveries (${PROPERTIES} properties x ${RUNS})\n`,
	);
});
beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
});

type SignatureKind =
	| 'genuine'
	| 'genuine-uppercase'
	| 'genuine-padded'
	| 'other-secret'
	| 'missing'
	| 'empty'
	| 'v1-alone'
	| 'v2-prefix'
	| 'joined-twice'
	| 'repeated-list'
	| 'garbage';

const GENUINE: ReadonlySet<SignatureKind> = new Set([
	'genuine',
	'genuine-uppercase',
	'genuine-padded',
]);

const signatureKind = fc.constantFrom<SignatureKind>(
	'genuine',
	'genuine',
	'genuine',
	'genuine-uppercase',
	'genuine-padded',
	'other-secret',
	'missing',
	'empty',
	'v1-alone',
	'v2-prefix',
	'joined-twice',
	'repeated-list',
	'garbage',
);

const headerName = fc.constantFrom('x-webhook-sign', 'X-WEBHOOK-SIGN', 'X-Webhook-Sign');

function signatureHeader(kind: SignatureKind, body: Buffer): string | string[] | undefined {
	const genuine = signTruvPayload(body, SANDBOX_SECRET);
	switch (kind) {
		case 'genuine':
			return genuine;
		case 'genuine-uppercase':
			return `v1=${genuine.slice(3).toUpperCase()}`;
		case 'genuine-padded':
			return `  ${genuine}\t`;
		case 'other-secret':
			return signTruvPayload(body, 'sandbox-attacker');
		case 'missing':
			return undefined;
		case 'empty':
			return '';
		case 'v1-alone':
			return 'v1=';
		case 'v2-prefix':
			return genuine.replace('v1=', 'v2=');
		case 'joined-twice':
			return `${genuine}, ${genuine}`;
		case 'repeated-list':
			return [genuine, genuine];
		case 'garbage':
			return `v1=${'g'.repeat(64)}`;
	}
}

const text = fc.oneof(
	fc.string(),
	fc.string({ unit: 'grapheme' }),
	fc.constantFrom('', '\u0000', '\ud83d\ude00', '\\"', '\u202e', '</script>', 'null'),
);
const id = fc.oneof(
	fc.stringMatching(/^[0-9a-f]{32}$/),
	fc.string({ minLength: 1, maxLength: 40 }),
);
const optionalText = fc.option(text, { nil: null });

/** A payload that satisfies Truv's documented order event shape, with extra unknown fields. */
const validOrderEvent = fc.record(
	{
		webhook_id: id,
		event_type: fc.constantFrom(...ORDER_EVENT_TYPES),
		order_id: id,
		status: text,
		event_created_at: optionalText,
		updated_at: optionalText,
		user_id: optionalText,
		template_id: optionalText,
		order_number: optionalText,
		employer_id: optionalText,
		product: optionalText,
		link_id: optionalText,
		data_source: optionalText,
		extra: fc.jsonValue({ maxDepth: 3 }),
	},
	{ requiredKeys: ['webhook_id', 'event_type', 'order_id', 'status'] },
);

const wrongValue = fc.oneof(
	fc.integer(),
	fc.boolean(),
	fc.constant(null),
	fc.array(fc.string(), { maxLength: 3 }),
	fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

/** A valid order event with one identifier removed or given a wrong type: must be refused. */
const brokenOrderEvent = fc
	.tuple(
		validOrderEvent,
		fc.constantFrom('webhook_id', 'order_id', 'status'),
		fc.option(wrongValue),
	)
	.map(([event, field, replacement]) => {
		const broken: IDataObject = { ...event };
		if (replacement === null) delete broken[field];
		else broken[field] = replacement as IDataObject[string];
		return broken;
	});

const pollutingKeys = fc.constantFrom('__proto__', 'constructor', 'prototype');

function deeplyNested(depth: number, open: string, close: string): string {
	return `${open.repeat(depth)}${close.repeat(depth)}`;
}

/** Bodies that are not valid order events, or not JSON at all. */
const hostileBody: fc.Arbitrary<Buffer> = fc.oneof(
	fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
	fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
	fc.integer({ min: 1, max: 20000 }).map((depth) => Buffer.from(deeplyNested(depth, '[', ']'))),
	fc
		.integer({ min: 1, max: 5000 })
		.map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
	fc
		.tuple(validOrderEvent, fc.integer({ min: 1, max: 400 }))
		.map(([event, cut]) => Buffer.from(JSON.stringify(event).slice(0, cut))),
	brokenOrderEvent.map((event) => Buffer.from(JSON.stringify(event))),
	fc
		.tuple(validOrderEvent, fc.constantFrom(1, 1000, MAX_DELIVERY_BYTES))
		.map(([event, size]) =>
			Buffer.from(JSON.stringify({ ...event, webhook_id: 'x'.repeat(size) })),
		),
	fc
		.tuple(fc.constantFrom(...ORDER_EVENT_TYPES), fc.integer({ min: 1, max: 50000 }))
		.map(([eventType, length]) =>
			Buffer.from(
				JSON.stringify({ webhook_id: 'w', event_type: eventType, order_id: Array(length).fill(1) }),
			),
		),
);

/** The payload is in the body twice with different values: JSON.parse keeps the last one. */
const duplicateKeyBody = fc
	.tuple(
		validOrderEvent,
		fc.constantFrom('webhook_id', 'order_id', 'event_type', 'status'),
		wrongValue,
	)
	.map(([event, key, first]) => {
		const json = JSON.stringify(event);
		return Buffer.from(`{${JSON.stringify(key)}:${JSON.stringify(first)},${json.slice(1)}`);
	});

function assertAnswered(result: DeliveryResult) {
	expect(ANSWERS.has(result.status)).toBe(true);
	expect(typeof result.body.message).toBe('string');
	expect(result.body.received).toBe(result.status < 300);
}

/**
 * The item the workflow runs with, if any. A signed delivery the trigger cannot read starts an
 * execution that fails at once (its item only carries the problems): that is not a run.
 */
function executed(result: DeliveryResult): IDataObject | undefined {
	const items = (result.workflowData ?? []).flat();
	expect(items.length).toBeLessThanOrEqual(1);
	const json = items[0]?.json;
	if (json !== undefined && UNREADABLE_DELIVERY_FIELD in json) {
		expect(result.body.outcome).toBe('invalid_payload');
		return undefined;
	}
	return json;
}

const settings = (offset: number) => ({ seed: SEED + offset, numRuns: RUNS, endOnFailure: true });

describe('hostile and broken deliveries', () => {
	test('valid order events execute exactly when the signature is genuine', async () => {
		await fc.assert(
			fc.asyncProperty(validOrderEvent, signatureKind, headerName, async (event, kind, name) => {
				const body = Buffer.from(JSON.stringify(event));
				const result = await deliver({
					rawBody: body,
					headers: { [name]: signatureHeader(kind, body) },
				});
				assertAnswered(result);
				const item = executed(result);
				if (GENUINE.has(kind)) {
					expect(result.status).toBe(200);
					// Generated ids can repeat; a repeat is acknowledged as a duplicate.
					if (result.body.outcome === 'accepted') expect(item).toEqual(JSON.parse(body.toString()));
					else expect(result.body.outcome).toBe('duplicate');
				} else {
					expect(result.status).toBe(401);
					expect(item).toBeUndefined();
				}
			}),
			settings(0),
		);
	});

	test('broken, truncated, nested, huge and random bodies never execute, whatever the signature', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.oneof(hostileBody, duplicateKeyBody),
				signatureKind,
				async (body, kind) => {
					const result = await deliver({
						rawBody: body,
						headers: { 'x-webhook-sign': signatureHeader(kind, body) },
					});
					assertAnswered(result);
					const item = executed(result);
					if (result.status === 401) expect(GENUINE.has(kind)).toBe(false);
					if (body.length > MAX_DELIVERY_BYTES) expect(result.status).toBe(413);
					if (item === undefined) return;
					// Random bytes can only execute by forming a genuine, well-formed order event.
					expect(GENUINE.has(kind)).toBe(true);
					expect(ORDER_EVENT_TYPES).toContain(item.event_type);
					expect(typeof item.webhook_id).toBe('string');
					expect(typeof item.order_id).toBe('string');
					expect(typeof item.status).toBe('string');
				},
			),
			settings(1),
		);
	});

	test('prototype-polluting keys never reach the item or Object.prototype', async () => {
		await fc.assert(
			fc.asyncProperty(validOrderEvent, pollutingKeys, fc.boolean(), async (event, key, nested) => {
				const json = JSON.stringify(event);
				const injection = `${JSON.stringify(key)}:{"polluted":true,"prototype":{"polluted":true}}`;
				const raw = nested
					? `${json.slice(0, -1)},"extra":{${injection}}}`
					: `{${injection},${json.slice(1)}`;
				const body = Buffer.from(raw);
				const result = await deliver({
					rawBody: body,
					headers: { 'x-webhook-sign': signatureHeader('genuine', body) },
				});
				assertAnswered(result);
				const item = executed(result);
				expect(({} as IDataObject).polluted).toBeUndefined();
				if (!item) return;
				expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
				expect(Object.prototype.hasOwnProperty.call(item, key)).toBe(false);
				const extra = item.extra as IDataObject;
				if (nested) expect(Object.prototype.hasOwnProperty.call(extra, key)).toBe(false);
			}),
			settings(2),
		);
	});

	test('unsigned deliveries are refused before the body is looked at', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.oneof(
					hostileBody,
					validOrderEvent.map((event) => Buffer.from(JSON.stringify(event))),
				),
				fc.constantFrom<SignatureKind>('missing', 'empty', 'v1-alone', 'other-secret', 'garbage'),
				async (body, kind) => {
					const result = await deliver({
						rawBody: body,
						headers: { 'x-webhook-sign': signatureHeader(kind, body) },
					});
					expect(result.status).toBe(body.length > MAX_DELIVERY_BYTES ? 413 : 401);
					expect(result.workflowData).toBeUndefined();
				},
			),
			settings(3),
		);
	});
});
