import { deliveryHeaders } from '../../../nodes/TruvOrderTrigger/deliveryHeaders';

describe('deliveryHeaders', () => {
	test('keeps the headers that describe a delivery, under their lower-case names', () => {
		expect(
			deliveryHeaders({
				'Content-Type': 'application/json',
				'content-length': '812',
				'user-agent': 'Truv-Webhook-Service/2.0',
				'X-WEBHOOK-SIGN': 'v1=abc',
				'x-forwarded-for': '203.0.113.7, 10.0.0.2',
				'x-real-ip': '203.0.113.7',
				'x-request-id': 'req-1',
				traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
			}),
		).toEqual({
			'content-type': 'application/json',
			'content-length': '812',
			'user-agent': 'Truv-Webhook-Service/2.0',
			'x-webhook-sign': 'v1=abc',
			'x-forwarded-for': '203.0.113.7, 10.0.0.2',
			'x-real-ip': '203.0.113.7',
			'x-request-id': 'req-1',
			traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
		});
	});

	test.each([
		'authorization',
		'Proxy-Authorization',
		'cookie',
		'x-n8n-api-key',
		'x-api-key',
		'X-Auth-Token',
		'cf-access-jwt-assertion',
		'cf-access-client-secret',
		'x-amzn-oidc-data',
		'x-amzn-oidc-accesstoken',
		'x-amzn-oidc-identity',
		'x-forwarded-client-cert',
		'x-goog-iap-jwt-assertion',
		'x-some-new-proxy-secret',
	])('drops %s, as every header it does not name', (name) => {
		expect(deliveryHeaders({ [name]: 'secret', 'content-type': 'application/json' })).toEqual({
			'content-type': 'application/json',
		});
	});

	test('a header named __proto__ neither passes nor changes the result', () => {
		const headers = JSON.parse('{"__proto__": {"polluted": true}, "accept": "*/*"}') as Record<
			string,
			unknown
		>;
		const described = deliveryHeaders(headers as never);
		expect(described).toEqual({ accept: '*/*' });
		expect(Object.getPrototypeOf(described)).toBe(Object.prototype);
	});
});
