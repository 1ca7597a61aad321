/**
 * Response bodies exactly as Truv answers errors. Truv mixes two shapes: its own
 * `{"error": {...}}` envelope for authentication and validation, and Django REST framework's
 * bare `{"detail": ...}` for routing-level answers such as 404 and 405.
 */

export interface InvalidParam {
	field: string;
	message: string;
}

export interface TruvErrorBody {
	error: {
		code: string;
		message: string;
		extra?: { 'invalid-params': InvalidParam[] };
	};
}

export interface DetailBody {
	detail: string;
}

/** Thrown by the webhook rules so API handlers and the control API can both answer 400. */
export class TruvValidationError extends Error {
	constructor(readonly invalidParams: InvalidParam[]) {
		super(invalidParams.map((param) => `${param.field}: ${param.message}`).join('; '));
		this.name = 'TruvValidationError';
	}
}

export function authenticationFailedBody(): TruvErrorBody {
	return {
		error: {
			code: 'authentication_failed',
			message: 'Authentication credentials were not provided or are invalid.',
		},
	};
}

export function notAuthenticatedBody(): TruvErrorBody {
	return {
		error: {
			code: 'not_authenticated',
			message: 'You do not have permission to perform this action.',
		},
	};
}

export function incorrectParametersBody(invalidParams: InvalidParam[]): TruvErrorBody {
	return {
		error: {
			code: 'incorrect_parameters',
			message: 'Incorrect parameters',
			extra: { 'invalid-params': invalidParams },
		},
	};
}

export function parseErrorBody(parserMessage: string): TruvErrorBody {
	return { error: { code: 'parse_error', message: `JSON parse error - ${parserMessage}` } };
}

/** Truv's 429 (truv-api.md): `error.code` `throttled`, the wait in Django's words. */
export function throttledBody(seconds: number): TruvErrorBody {
	return {
		error: {
			code: 'throttled',
			message: `Request was throttled. Expected available in ${seconds} seconds.`,
		},
	};
}

export function notFoundBody(): DetailBody {
	return { detail: 'Not Found.' };
}

export function invalidPageBody(): DetailBody {
	return { detail: 'Invalid page.' };
}

export function invalidCursorBody(): DetailBody {
	return { detail: 'Invalid cursor' };
}

export function methodNotAllowedBody(method: string): DetailBody {
	return { detail: `Method "${method}" not allowed.` };
}

export function unsupportedMediaTypeBody(contentType: string): DetailBody {
	return { detail: `Unsupported media type "${contentType}" in request.` };
}

/**
 * Truv runs on Django: an unhandled server error answers Django's stock HTML page, not JSON,
 * so a client that assumes JSON error bodies fails here the way it would against Truv.
 */
export const SERVER_ERROR_HTML =
	'<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n' +
	'<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';

/** A JSON document cut off mid-way, as a proxy or a crashing worker can deliver it. */
export const TRUNCATED_JSON = '{"count": 1, "next": null, "previous": null, "results": [{"id": "';
