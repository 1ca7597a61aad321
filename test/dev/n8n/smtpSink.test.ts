import { connect } from 'node:net';

import { startSmtpSink, type SmtpSink } from '../../../dev/n8n/smtpSink';

/** Sends one message with a bare SMTP dialogue, each command after the server's answer. */
async function sendRaw(port: number, from: string, to: string, message: string): Promise<void> {
	const socket = connect(port, '127.0.0.1');
	socket.setEncoding('utf8');
	let buffered = '';
	const waiting: Array<(line: string) => void> = [];
	socket.on('data', (chunk: string) => {
		buffered += chunk;
		// A reply ends with a line whose code is followed by a space (not `250-`).
		let end: RegExpExecArray | null;
		while ((end = /^\d{3} .*\r\n/m.exec(buffered))) {
			const reply = buffered.slice(0, end.index + end[0].length);
			buffered = buffered.slice(reply.length);
			waiting.shift()?.(reply);
		}
	});
	const reply = () => new Promise<string>((resolve) => waiting.push(resolve));
	const command = async (line: string, expected: RegExp) => {
		const answer = reply();
		socket.write(`${line}\r\n`);
		expect(await answer).toMatch(expected);
	};
	expect(await reply()).toMatch(/^220/);
	await command('EHLO sender.test', /^250/m);
	await command(`MAIL FROM:<${from}>`, /^250/);
	await command(`RCPT TO:<${to}>`, /^250/);
	await command('DATA', /^354/);
	await command(`${message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')}\r\n.`, /^250/);
	await command('QUIT', /^221/);
	socket.end();
}

describe('SMTP sink', () => {
	let sink: SmtpSink;

	beforeAll(async () => {
		sink = await startSmtpSink();
	});

	afterAll(async () => {
		await sink.close();
	});

	test('records a text mail with a PDF attached as nodemailer sends it: the text, and the file decoded', async () => {
		const pdf = Buffer.from(
			'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n',
			'latin1',
		);
		const base64 = pdf.toString('base64').replace(/.{1,76}/g, '$&\n');
		const message = [
			'From: n8n@example.com',
			'To: loan-officer@example.com',
			'Subject: Report',
			'MIME-Version: 1.0',
			'Content-Type: multipart/mixed;',
			' boundary="--_NmP-1"',
			'',
			'----_NmP-1',
			'Content-Type: text/plain; charset=utf-8',
			'Content-Transfer-Encoding: quoted-printable',
			'',
			'The report is attached =E2=80=94 see the PDF.',
			'----_NmP-1',
			'Content-Type: application/pdf; name=LOAN-1842-income-and-employment.pdf',
			'Content-ID: <data>',
			'Content-Transfer-Encoding: base64',
			'Content-Disposition: attachment;',
			' filename=LOAN-1842-income-and-employment.pdf',
			'',
			base64,
			'----_NmP-1--',
			'',
		].join('\n');
		await sendRaw(sink.port, 'n8n@example.com', 'loan-officer@example.com', message);
		const [mail] = await sink.waitFor(1);
		expect(mail.to).toEqual(['loan-officer@example.com']);
		expect(mail.headers.subject).toBe('Report');
		expect(mail.text).toBe('The report is attached — see the PDF.');
		expect(mail.html).toBe('');
		expect(mail.attachments).toEqual([
			{
				filename: 'LOAN-1842-income-and-employment.pdf',
				contentType: 'application/pdf',
				disposition: 'attachment',
				content: pdf,
			},
		]);
	});
});
