import type { IDataObject } from 'n8n-workflow';

import { orderStatus, simplifyOrder } from '../../../nodes/Truv/actions/simplifyOrder';

const suborders = (...statuses: string[]) =>
	statuses.map((status, index) => ({ id: `s${index}`, status }));

describe('order status, worked out from what Truv answers', () => {
	test.each<[string, IDataObject, string]>([
		['a status Truv sends wins', { status: 'in_review', canceled_at: '2024-01-01' }, 'in_review'],
		[
			'canceled_at means canceled',
			{ canceled_at: '2024-01-01', employers: suborders('pending') },
			'canceled',
		],
		['completed_at means completed', { completed_at: '2024-01-01' }, 'completed'],
		['is_expired means expired', { is_expired: true, employers: suborders('sent') }, 'expired'],
		['no suborders yet is pending', { employers: [] }, 'pending'],
		['an open suborder keeps it pending', { employers: suborders('completed', 'sent') }, 'pending'],
		['all final, one completed', { employers: suborders('completed', 'no_data') }, 'completed'],
		[
			'all final, none completed, across employers and accounts',
			{ employers: suborders('error'), financial_accounts: suborders('skipped') },
			'failed',
		],
		[
			'an unknown suborder status counts as open',
			{ employers: suborders('completed', 'new_state') },
			'pending',
		],
	])('%s', (_case, order, status) => {
		expect(orderStatus(order)).toBe(status);
	});
});

describe('simplifyOrder', () => {
	test('keeps the fields a workflow needs and tolerates missing ones', () => {
		expect(
			simplifyOrder({
				id: 'o1',
				bridge_token: 'secret-ish',
				employers: [{ id: 'e1', company_name: 'Acme', status: 'error', extra: 1 }],
			}),
		).toEqual({
			id: 'o1',
			order_number: null,
			first_name: null,
			last_name: null,
			email: null,
			products: [],
			status: 'failed',
			is_final: true,
			is_expired: false,
			share_url: null,
			created_at: null,
			updated_at: null,
			completed_at: null,
			canceled_at: null,
			expired_at: null,
			employers: [{ id: 'e1', company_name: 'Acme', status: 'error', suborder_number: null }],
		});
	});

	test('an order status of Truv’s own that is not known to be final is not final', () => {
		expect(simplifyOrder({ status: 'in_review' })).toMatchObject({
			status: 'in_review',
			is_final: false,
		});
	});
});
