import {
	authenticationFailedBody,
	notAuthenticatedBody,
	SERVER_ERROR_HTML,
	TRUNCATED_JSON,
} from './truvErrors';
import { type Answer, jsonAnswer } from './httpExchange';

export const FAULT_KINDS = [
	'status500',
	'hang',
	'status401',
	'malformedJson',
	'status403',
	'noContent',
	'emptyObject',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Kinds that let the request through to the API and change only a successful answer: Truv does
 * not document every answer's body (Cancel's, for one), so a client must also cope with
 * `204 No Content` (`noContent`) or `200 {}` (`emptyObject`) for a request that did its work.
 */
export const ANSWER_SHAPING_FAULTS: ReadonlySet<FaultKind> = new Set(['noContent', 'emptyObject']);

export interface FaultSpec {
	/** Only requests with this method (any case); all methods when absent. */
	method?: string;
	/** Only requests whose path starts with this, e.g. `/v1/webhooks/`; all when absent. */
	path?: string;
	kind: FaultKind;
	/** How many matching requests fail; until cleared when absent. */
	times?: number;
	/** How many matching requests pass untouched before this switch trips; none when absent. */
	after?: number;
}

/**
 * Switchable failures for the Truv API. The newest matching switch wins, so a test can narrow
 * a broad fault for one request. A faulted request never reaches the API, so nothing changes,
 * except for the ANSWER_SHAPING_FAULTS, which only replace a successful answer.
 */
export class FaultSwitches {
	private faults: FaultSpec[] = [];

	list(): FaultSpec[] {
		return this.faults.map((fault) => ({ ...fault }));
	}

	set(spec: FaultSpec): void {
		this.faults.unshift({ ...parseFaultSpec(spec) });
	}

	clear(): void {
		this.faults = [];
	}

	/** The kind of the switch this request trips, spending one of its `times`. */
	trip(method: string, path: string): FaultKind | undefined {
		const fault = this.faults.find(
			(candidate) =>
				(candidate.method === undefined || candidate.method.toUpperCase() === method) &&
				(candidate.path === undefined || path.startsWith(candidate.path)),
		);
		if (fault === undefined) return undefined;
		if (fault.after !== undefined && fault.after > 0) {
			fault.after -= 1;
			return undefined;
		}
		if (fault.times !== undefined) {
			fault.times -= 1;
			if (fault.times <= 0) this.faults = this.faults.filter((candidate) => candidate !== fault);
		}
		return fault.kind;
	}
}

/**
 * The answer a fault gives, or null for `hang`: the request is never answered. An answer-shaping
 * fault is given the API's answer, and replaces it only when it is a success.
 */
export function faultAnswer(kind: FaultKind, apiAnswer?: Answer | null): Answer | null {
	switch (kind) {
		case 'noContent':
		case 'emptyObject':
			if (!apiAnswer || apiAnswer.status < 200 || apiAnswer.status >= 300) return apiAnswer ?? null;
			return kind === 'noContent' ? { status: 204 } : jsonAnswer(200, {});
		case 'hang':
			return null;
		case 'status500':
			return { status: 500, body: SERVER_ERROR_HTML, contentType: 'text/html; charset=utf-8' };
		case 'status401':
			return jsonAnswer(401, authenticationFailedBody());
		case 'status403':
			return jsonAnswer(403, notAuthenticatedBody());
		case 'malformedJson':
			return { status: 200, body: TRUNCATED_JSON, contentType: 'application/json' };
	}
}

/** Checks a spec that may come from JSON over the control API. */
export function parseFaultSpec(input: unknown): FaultSpec {
	if (typeof input !== 'object' || input === null)
		throw new Error('A fault spec must be an object');
	const spec = input as Record<string, unknown>;
	if (!(FAULT_KINDS as readonly unknown[]).includes(spec.kind)) {
		throw new Error(`Fault kind must be one of ${FAULT_KINDS.join(', ')}`);
	}
	const optionalString = (field: string) => {
		const value = spec[field];
		if (value !== undefined && typeof value !== 'string')
			throw new Error(`${field} must be a string`);
		return value as string | undefined;
	};
	const times = spec.times;
	if (times !== undefined && !(typeof times === 'number' && Number.isInteger(times) && times > 0)) {
		throw new Error('times must be a positive integer');
	}
	const after = spec.after;
	if (
		after !== undefined &&
		!(typeof after === 'number' && Number.isInteger(after) && after >= 0)
	) {
		throw new Error('after must be a whole number');
	}
	return {
		kind: spec.kind as FaultKind,
		...(optionalString('method') === undefined ? {} : { method: optionalString('method') }),
		...(optionalString('path') === undefined ? {} : { path: optionalString('path') }),
		...(times === undefined ? {} : { times: times as number }),
		...(after === undefined ? {} : { after: after as number }),
	};
}
