/** Truv's published signature test vectors: [secret, exact body, X-WEBHOOK-SIGN]. */
export const TRUV_SIGNATURE_VECTORS: Array<[string, string, string]> = [
	[
		'test-webhook-secret-key',
		'{"event_type":"task-status-updated","status":"completed"}',
		'v1=a90aa6bde1b38af715c5d32375c0c6938cf5dfdb168530f4e8b9c6fac3d4f3fc',
	],
	[
		'my-secret',
		'{"test":true}',
		'v1=9d8e125c6b7c45fe2f469f489a19934ebd0d3e9c7514134a7bceddf18dfd6e8d',
	],
];
