// fixtures.ts: what the tests share: tokens, requests, and orgs, users and services made with the
// superuser connection (SUPABASE_DB_URL, as tests/test_edge_function.py passes it).

import { SignJWT, UnsecuredJWT } from "jose";
import postgres from "postgres";

import { type Config, createHandler, type Handler } from "./handler.ts";

export const SECRET = Deno.env.get("PLANNER_JWT_SECRET") || "a-test-secret-of-at-least-thirty-two-characters";

export function dbUrl(): string {
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (!url) throw new Error("SUPABASE_DB_URL must name the test database (tests/test_edge_function.py sets it)");
  return url;
}

/** A handler whose log is kept for the test to read, not printed. */
export function handlerFor(config: Partial<Config> = {}): Handler & { logged: string[] } {
  const logged: string[] = [];
  const handler = createHandler({
    url: config.url ?? dbUrl(),
    jwtSecret: SECRET,
    log: (event) => logged.push(event),
    ...config,
  });
  return Object.assign(handler, { logged });
}

/** A URL where nothing listens: a port taken from the OS and given back. */
export function closedPortUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `postgres://postgres@127.0.0.1:${port}/test`;
}

// ---------------------------------------------------------------- tokens

const now = () => Math.floor(Date.now() / 1000);

/** A token as Supabase Auth issues it for a signed-in user; `claims` override or add. */
export function tokenFor(userId: string, claims: Record<string, unknown> = {},
                         secret: string = SECRET, expiresIn = 3600): Promise<string> {
  return new SignJWT({ role: "authenticated", aud: "authenticated", email: `${userId}@test.invalid`, ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt(now() - 10)
    .setExpirationTime(now() + expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** The project's anon key: validly signed, role anon, no user. */
export function anonKey(): Promise<string> {
  return new SignJWT({ role: "anon", iss: "supabase" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now() - 10)
    .setExpirationTime(now() + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

export function unsignedToken(userId: string): string {
  return new UnsecuredJWT({ role: "authenticated", sub: userId }).setExpirationTime(now() + 3600).encode();
}

// ---------------------------------------------------------------- requests

export function post(body: unknown, token?: string, raw = false): Request {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return new Request("http://localhost/planner-orchestration", {
    method: "POST", headers, body: raw ? String(body) : JSON.stringify(body),
  });
}

export function runRequest(allocationRun: string, extra: Record<string, unknown> = {}) {
  return {
    allocation_run: allocationRun, n_job_lines: 2, constraints: ["UNRESTRICTED"],
    options: { allow_partial: false, max_seconds: 10, seed: 1, num_workers: 1 }, ...extra,
  };
}

// ---------------------------------------------------------------- the database, as superuser

export type Sql = postgres.Sql;

export function superuser(): Sql {
  return postgres(dbUrl(), { max: 2, onnotice: () => {}, connect_timeout: 5 });
}

/** A service of one post for two doctors over one 52-week term: it solves in moments. */
export function serviceDoc(name: string) {
  return {
    format: "receptor-planner/instance@1", org: { name }, cohort: "PGY3+", start_date: "2027-01-04",
    term_weeks: [52], leave: { weeks: 0 },
    positions: [{ key: "P1", name: "P1", specialty: "General Medicine", categories: ["A"], capacity: 2, min_fill: 0 }],
  };
}

export interface Service {
  org: string;
  allocationRun: string;
}

/** A new org with one allocation run; with `org`, another allocation run in that org. */
export async function newService(sql: Sql, org?: string): Promise<Service> {
  const doc = serviceDoc(`Edge Test ${crypto.randomUUID()}`);
  const [{ id }] = await sql`select planner.import_instance(${sql.json(doc)}, ${org ?? null}::uuid) as id`;
  const [row] = await sql`select org_id from public.allocation_runs where id = ${id}`;
  return { org: row.org_id, allocationRun: id };
}

/** A new auth user with the given role in the org (none: a signed-in user of no org). */
export async function newUser(sql: Sql, org?: string, role?: "viewer" | "planner" | "admin"): Promise<string> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${id}, ${`${id}@test.invalid`})`;
  if (org && role) await sql`select planner.add_member(${org}::uuid, ${id}::uuid, ${role})`;
  return id;
}

/** Cancels what a test left queued, so the worker of another test does not solve it. */
export async function cancelActive(sql: Sql, allocationRun: string): Promise<void> {
  await sql`update public.allocation_planner_runs set status = 'CANCELLED'
             where allocation_run = ${allocationRun} and status in ('PENDING', 'GENERATING')`;
}

export async function runsOf(sql: Sql, allocationRun: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.allocation_planner_runs
                             where allocation_run = ${allocationRun}`;
  return n;
}
