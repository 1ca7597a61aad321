// A throwaway PostgreSQL cluster for n8n: the distribution's binaries run on a temp folder and a
// free loopback port with trust authentication, so nothing system-wide (service, port 5432, data)
// is used or touched and parallel runs cannot collide.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort } from './ports';
import { waitFor } from './wait';

export interface PostgresServer {
	/** '127.0.0.1' */
	host: string;
	port: number;
	/** The superuser initdb created; loopback connections need no password (trust). */
	user: string;
	/** Creates a new empty database and returns its name (unique per call when name omitted). */
	createDatabase(name?: string): Promise<string>;
	/** Drops a database, ending any connections still open to it. */
	dropDatabase(name: string): Promise<void>;
	/**
	 * Runs SQL (one or more statements) with psql against a database and returns psql's unaligned,
	 * tuples-only output without its final newline. Rejects with psql's error at the first failure.
	 */
	query(database: string, sql: string): Promise<string>;
	/** The environment n8n needs to use a database of this server. */
	n8nEnvironment(database: string): Record<string, string>;
	/** Fast shutdown, then removes the cluster's folder. Safe to call more than once. */
	stop(): Promise<void>;
}

const postgresRoot = '/usr/lib/postgresql';
const requiredBinaries = ['initdb', 'pg_ctl', 'psql', 'createdb', 'dropdb'];
const host = '127.0.0.1';
const user = 'n8n';
const startAttempts = 3;

/**
 * A test cluster is thrown away after the run, so durability buys nothing; n8n opens a connection
 * pool per process and some tests run several n8n processes against one server.
 */
const testSettings = {
	listen_addresses: host,
	max_connections: '200',
	fsync: 'off',
	synchronous_commit: 'off',
	full_page_writes: 'off',
};

/** The bin folder of the newest installed major version that has everything this module runs. */
function binDirectory(): string | undefined {
	if (!existsSync(postgresRoot)) return undefined;
	return readdirSync(postgresRoot)
		.filter((name) => /^\d+$/.test(name))
		.sort((a, b) => Number(b) - Number(a))
		.map((major) => join(postgresRoot, major, 'bin'))
		.find((bin) => requiredBinaries.every((binary) => existsSync(join(bin, binary))));
}

// PostgreSQL refuses to run as root; Debian's package creates a `postgres` user to run it as.
const isRoot = (): boolean => process.getuid?.() === 0;

export function postgresUnavailableReason(): string | undefined {
	if (binDirectory() === undefined) {
		return (
			`no PostgreSQL with ${requiredBinaries.join(', ')} under ${postgresRoot}/<major>/bin: ` +
			"install Debian's postgresql package (apt-get install -y postgresql)"
		);
	}
	if (isRoot() && spawnSync('runuser', ['-u', 'postgres', '--', 'true']).status !== 0) {
		return (
			'running as root, which PostgreSQL refuses, and `runuser -u postgres` does not work: ' +
			"install Debian's postgresql package (it creates the postgres user) or run as another user"
		);
	}
	return undefined;
}

/** Inherited PG* variables (PGPORT, PGDATABASE, PGSERVICE, ...) would redirect the tools. */
function toolEnvironment(): NodeJS.ProcessEnv {
	return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
}

interface RunOptions {
	cwd: string;
	input?: string;
	timeoutMs?: number;
}

async function run(
	command: string,
	args: string[],
	{ cwd, input, timeoutMs = 120_000 }: RunOptions,
): Promise<string> {
	return await new Promise((resolve, reject) => {
		const child = spawn(command, args, {
			cwd,
			env: toolEnvironment(),
			timeout: timeoutMs,
			stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
		child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
		child.on('error', reject);
		child.on('close', (code, signal) => {
			if (code === 0) resolve(stdout);
			else {
				const how = signal === null ? `exited with ${code}` : `was killed by ${signal}`;
				reject(new Error(`${command} ${args.join(' ')} ${how}: ${stderr.trim() || stdout.trim()}`));
			}
		});
		// A tool that fails before reading its input closes the pipe; its exit status tells why.
		child.stdin?.on('error', () => undefined).end(input);
	});
}

/** initdb and pg_ctl: as `postgres` when running as root, as the current user otherwise. */
async function runServerTool(
	bin: string,
	tool: string,
	args: string[],
	options: RunOptions,
): Promise<string> {
	const path = join(bin, tool);
	return isRoot()
		? await run('runuser', ['-u', 'postgres', '--', path, ...args], options)
		: await run(path, args, options);
}

/** Temp folders of clusters this process started and has not stopped, with their data folders. */
const liveClusters = new Map<string, string>();
let exitHookInstalled = false;

/**
 * SIGQUIT (immediate shutdown) rather than SIGKILL: the postmaster takes its backends down with it
 * and releases its shared memory instead of leaving orphans behind.
 */
function quitPostmaster(dataDirectory: string): void {
	try {
		const pid = Number(readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
		// A pid file left by a crash may name a reused pid, and root may signal anything.
		if (pid > 0 && readlinkSync(`/proc/${pid}/exe`).endsWith('/postgres')) {
			process.kill(pid, 'SIGQUIT');
		}
	} catch {
		// No pid file or no such process: nothing is running.
	}
}

/**
 * pg_ctl detaches the postmaster into its own session, so it outlives this process unless killed
 * here when a run dies or forgets stop().
 */
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	const quitAll = () => {
		for (const [folder, dataDirectory] of liveClusters) {
			quitPostmaster(dataDirectory);
			rmSync(folder, { recursive: true, force: true });
		}
		liveClusters.clear();
	};
	process.on('exit', quitAll);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.once(signal, () => {
			// Right away, not on 'exit': the harness's process-group hook re-raises the signal, which
			// ends the process without running 'exit' listeners.
			quitAll();
			// Another listener (e.g. the dev server's graceful stop) owns this signal.
			if (process.listenerCount(signal) > 0) return;
			// Exiting rather than re-raising lets the other hooks' 'exit' listeners run.
			process.exit(128 + constants.signals[signal]);
		});
	}
}

async function logTail(logFile: string, lines = 30): Promise<string> {
	const log = await readFile(logFile, 'utf8').catch(() => '(no server log)');
	return log.trimEnd().split('\n').slice(-lines).join('\n');
}

const quoteSetting = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export async function startPostgres(): Promise<PostgresServer> {
	const reason = postgresUnavailableReason();
	const bin = binDirectory();
	if (reason !== undefined || bin === undefined) throw new Error(reason);

	const folder = await mkdtemp(join(tmpdir(), 'n8n-postgres-'));
	const dataDirectory = join(folder, 'data');
	const logFile = join(folder, 'postgres.log');
	const options: RunOptions = { cwd: folder };
	installExitHook();
	liveClusters.set(folder, dataDirectory);

	const forceStop = async (): Promise<void> => {
		quitPostmaster(dataDirectory);
		// The postmaster deletes its pid file as it exits.
		await waitFor(() => (existsSync(join(dataDirectory, 'postmaster.pid')) ? undefined : true), {
			timeoutMs: 30_000,
			description: `the postmaster in ${dataDirectory} to exit`,
		});
	};

	let port = 0;
	const clientArgs = (): string[] => ['-h', host, '-p', String(port), '-U', user, '--no-password'];
	const query = async (database: string, sql: string): Promise<string> => {
		const psqlArgs = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', database, '-f', '-'];
		const output = await run(join(bin, 'psql'), [...clientArgs(), ...psqlArgs], {
			...options,
			input: sql,
		});
		return output.replace(/\n$/, '');
	};

	try {
		if (isRoot()) await run('chown', ['postgres', folder], options);
		// Without an explicit encoding initdb takes the locale's, which is SQL_ASCII under plain C.
		await runServerTool(
			bin,
			'initdb',
			['-D', dataDirectory, '-A', 'trust', '-U', user, '-E', 'UTF8', '--locale=C', '--no-sync'],
			options,
		);
		// In the config file rather than pg_ctl's -o, which goes through a shell unquoted.
		const settings = { ...testSettings, unix_socket_directories: folder };
		await appendFile(
			join(dataDirectory, 'postgresql.conf'),
			`\n# n8n e2e harness\n${Object.entries(settings)
				.map(([name, value]) => `${name} = ${quoteSetting(value)}\n`)
				.join('')}`,
		);
		for (let attempt = 1; ; attempt++) {
			port = await getFreePort();
			try {
				await runServerTool(
					bin,
					'pg_ctl',
					['start', '-D', dataDirectory, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port}`],
					options,
				);
				break;
			} catch (error) {
				// Another process can take the port between getFreePort and the postmaster's bind.
				const portTaken = /could not bind|already in use/i.test(await logTail(logFile, 10));
				if (!portTaken || attempt === startAttempts) throw error;
			}
		}
		// pg_ctl -w saw the postmaster ready; this proves TCP on loopback takes logins.
		await waitFor(async () => ((await query('postgres', 'SELECT 1')) === '1' ? true : undefined), {
			timeoutMs: 30_000,
			description: `PostgreSQL on ${host}:${port}`,
		});
	} catch (error) {
		const tail = await logTail(logFile);
		await forceStop().catch(() => undefined);
		liveClusters.delete(folder);
		await rm(folder, { recursive: true, force: true });
		const message = error instanceof Error ? error.message : String(error);
		throw new Error(`PostgreSQL did not start: ${message}\n--- server log ---\n${tail}`);
	}

	let createdDatabases = 0;
	let stopping: Promise<void> | undefined;
	return {
		host,
		port,
		user,
		async createDatabase(name?: string): Promise<string> {
			const database = name ?? `n8n_${++createdDatabases}_${randomBytes(4).toString('hex')}`;
			await run(join(bin, 'createdb'), [...clientArgs(), database], options);
			return database;
		},
		async dropDatabase(name: string): Promise<void> {
			await run(join(bin, 'dropdb'), [...clientArgs(), '--force', name], options);
		},
		query,
		n8nEnvironment: (database) => ({
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: host,
			DB_POSTGRESDB_PORT: String(port),
			DB_POSTGRESDB_DATABASE: database,
			DB_POSTGRESDB_USER: user,
			// Trust authentication never asks for it.
			DB_POSTGRESDB_PASSWORD: '',
			DB_POSTGRESDB_SCHEMA: 'public',
		}),
		stop: async () =>
			await (stopping ??= (async () => {
				try {
					await runServerTool(
						bin,
						'pg_ctl',
						['stop', '-D', dataDirectory, '-m', 'fast', '-w', '-t', '60'],
						options,
					);
				} catch {
					// Already gone (no pid file) or stuck: make sure either way.
					await forceStop();
				}
				liveClusters.delete(folder);
				await rm(folder, { recursive: true, force: true });
			})()),
	};
}
