import type { TruvOrder, TruvOrderEmployer, TruvOrderFinancialAccount } from './orderRules';
import { newTruvId, type TruvEnvironment, truvTimestamp } from './webhookRules';

/** `voie` income and employment, `voe` employment only, `voa` assets. */
export type ReportKind = 'voie' | 'voe' | 'voa';

export interface StoredReport {
	clientId: string;
	env: TruvEnvironment;
	userId: string;
	kind: ReportKind;
	body: Record<string, unknown>;
	/** Truv answers 404 for a new report for a few seconds (truv-api.md): not readable before. */
	readableFromMs: number;
	/** What the PDF shows. */
	applicant: string;
}

/** The applicant's data a report carries, including what an order never answers back. */
export interface ReportSubject {
	order: TruvOrder;
	ssn?: string;
}

/**
 * The verification reports of every account and environment, by id. Reports are made from an
 * order's completed connections, as Truv makes them; the figures are fixed sample values.
 */
export class ReportStore {
	private readonly reports = new Map<string, StoredReport>();

	constructor(
		private readonly fileBaseUrl: () => string,
		private readonly now: () => Date = () => new Date(),
	) {}

	/** An income and employment report (employment only: `voe`) of the completed employers. */
	createEmploymentReport(
		clientId: string,
		env: TruvEnvironment,
		subject: ReportSubject,
		options: { employmentOnly?: boolean; readableAfterMs?: number } = {},
	): StoredReport {
		const { order } = subject;
		const withIncome = !options.employmentOnly && order.products.includes('income');
		const id = newTruvId();
		const created = truvTimestamp(this.now());
		const links = order.employers
			.filter((employer) => employer.status === 'completed')
			.map((employer) => ({
				...linkFields(employer),
				employments: [employment(subject, employer, withIncome, this.fileBaseUrl())],
			}));
		return this.store(id, {
			clientId,
			env,
			userId: order.user_id,
			kind: options.employmentOnly ? 'voe' : 'voie',
			applicant: `${order.first_name} ${order.last_name}`,
			readableFromMs: this.now().getTime() + (options.readableAfterMs ?? 0),
			body: {
				report_id: id,
				created_at: created,
				completed_at: created,
				last_task_at: created,
				links,
			},
		});
	}

	/** An assets report of the completed financial accounts. */
	createAssetsReport(
		clientId: string,
		env: TruvEnvironment,
		subject: ReportSubject,
		options: { daysRequested?: number; asOfDate?: string; readableAfterMs?: number } = {},
	): StoredReport {
		const { order } = subject;
		const id = newTruvId();
		const created = truvTimestamp(this.now());
		const accounts = order.financial_accounts.filter((account) => account.status === 'completed');
		const links = accounts.map((account) => ({
			link_id: account.link_id,
			provider_name: account.name,
			accounts: [assetsAccount(order, account)],
		}));
		return this.store(id, {
			clientId,
			env,
			userId: order.user_id,
			kind: 'voa',
			applicant: `${order.first_name} ${order.last_name}`,
			readableFromMs: this.now().getTime() + (options.readableAfterMs ?? 0),
			body: {
				report_id: id,
				created_at: created,
				days_requested: options.daysRequested ?? 60,
				as_of_date: options.asOfDate ?? created.slice(0, 10),
				links,
				summary: {
					accounts_count: links.length,
					total_balance: (links.length * 5230.15).toFixed(2),
					currency_code: 'USD',
				},
			},
		});
	}

	/** A report readable now by this caller for this user, of one of `kinds`. */
	find(
		clientId: string,
		env: TruvEnvironment,
		userId: string,
		reportId: string,
		kinds: ReportKind[],
	): StoredReport | undefined {
		const report = this.reports.get(reportId);
		if (
			report === undefined ||
			report.clientId !== clientId ||
			report.env !== env ||
			report.userId !== userId ||
			!kinds.includes(report.kind) ||
			report.readableFromMs > this.now().getTime()
		) {
			return undefined;
		}
		return report;
	}

	private store(id: string, report: StoredReport): StoredReport {
		this.reports.set(id, report);
		return report;
	}
}

function linkFields(employer: TruvOrderEmployer) {
	return {
		link_id: employer.link_id,
		tracking_info: employer.id,
		data_source: employer.data_source ?? 'payroll',
		provider: 'adp',
		provider_name: 'ADP',
	};
}

/** One employment as Truv's reports give it; income fields are null without the income product. */
export function employment(
	{ order, ssn }: ReportSubject,
	employer: TruvOrderEmployer,
	withIncome: boolean,
	fileBaseUrl: string,
): Record<string, unknown> {
	const income = (value: unknown) => (withIncome ? value : null);
	return {
		profile: {
			first_name: order.first_name,
			last_name: order.last_name,
			full_name: `${order.first_name} ${order.last_name}`,
			ssn: ssn ?? null,
			date_of_birth: '1990-12-10',
			email: order.email,
			home_address: {
				street: '1 Main St',
				city: 'San Francisco',
				state: 'CA',
				zip: '94105',
				country: 'US',
			},
		},
		company: {
			name: employer.company_name ?? 'Unknown employer',
			address: { street: '100 Market St', city: 'San Francisco', state: 'CA', zip: '94105' },
			ein: '12-3456789',
		},
		is_active: employer.end_date === null,
		job_title: 'Analyst',
		start_date: employer.start_date ?? '2019-03-01',
		end_date: employer.end_date,
		income: income('85000.00'),
		income_unit: income('YEARLY'),
		pay_rate: income('3269.23'),
		pay_frequency: income('BW'),
		statements: withIncome
			? [
					{
						id: newTruvId(),
						pay_date: '2024-06-28',
						gross_pay: '3269.23',
						net_pay: '2451.92',
						gross_pay_ytd: '42300.00',
						net_pay_ytd: '31725.00',
						file: `${fileBaseUrl}/files/statements/${employer.id}.pdf`,
					},
				]
			: [],
		annual_income_summary: withIncome
			? [{ year: 2023, gross_pay: '83500.00', net_pay: '62625.00' }]
			: [],
		w2s: [],
		bank_accounts: withIncome
			? [{ account_number: '****6789', routing_number: '021000021', bank_name: 'First Bank' }]
			: [],
		gse_accepted: true,
	};
}

function assetsAccount(order: TruvOrder, account: TruvOrderFinancialAccount) {
	return {
		id: account.id,
		type: 'CHECKING',
		mask: '6789',
		nickname: `${account.name ?? 'Bank'} checking`,
		owners: [{ full_name: `${order.first_name} ${order.last_name}` }],
		balances: { balance: '5230.15', available_balance: '5100.00', currency_code: 'USD' },
		transactions: [
			{
				id: newTruvId(),
				amount: '-54.20',
				description: 'GROCERY STORE',
				posted_at: '2024-06-27',
				type: 'DEBIT',
			},
			{
				id: newTruvId(),
				amount: '2451.92',
				description: 'PAYROLL',
				posted_at: '2024-06-28',
				type: 'CREDIT',
			},
		],
	};
}
