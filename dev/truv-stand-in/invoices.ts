import type { TruvOrder } from './orderRules';
import { newTruvId, truvTimestamp } from './webhookRules';

export interface TruvInvoice {
	id: string;
	order_group_id: string;
	/** A URL once the invoice is made; null while it is pending. */
	file: string | null;
	status: 'pending' | 'success' | 'error';
	created_at: string;
	updated_at: string;
}

/**
 * `GET /v1/orders/{id}/invoice/` (truv-api.md): Truv makes the invoice file after the first ask,
 * so it is `pending` for the first `pendingReads` reads of each order, then `success`.
 */
export class InvoiceBook {
	private readonly invoices = new Map<string, { invoice: TruvInvoice; reads: number }>();

	constructor(
		private readonly pendingReads: number,
		private readonly fileBaseUrl: () => string,
		private readonly now: () => Date = () => new Date(),
	) {}

	read(order: TruvOrder): TruvInvoice {
		let entry = this.invoices.get(order.id);
		if (entry === undefined) {
			const created = truvTimestamp(this.now());
			entry = {
				reads: 0,
				invoice: {
					id: newTruvId(),
					order_group_id: order.initial_order ?? order.id,
					file: null,
					status: 'pending',
					created_at: created,
					updated_at: created,
				},
			};
			this.invoices.set(order.id, entry);
		}
		entry.reads += 1;
		if (entry.invoice.status === 'pending' && entry.reads > this.pendingReads) {
			entry.invoice.status = 'success';
			entry.invoice.file = `${this.fileBaseUrl()}/files/invoices/${entry.invoice.id}.pdf`;
			entry.invoice.updated_at = truvTimestamp(this.now());
		}
		return { ...entry.invoice };
	}
}
