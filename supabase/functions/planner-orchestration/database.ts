// database.ts: queueing a planner run as the calling user, so that the database's RLS decides.
//
// One transaction: switch to the `authenticated` role and put the verified claims in
// request.jwt.claims (both transaction-local, so a pooled connection keeps neither), then insert.
// The insert's policies and triggers answer with SQLSTATEs, mapped here to HTTP statuses. Their
// messages are shown only where they are about the caller's own request ("table.field: reason");
// everything else is logged and answered generically, so no answer carries SQL or another org's data.

import postgres from "postgres";

import type { Claims } from "./auth.ts";
import type { PlannerRequest } from "./body.ts";
import { Refusal } from "./http.ts";

export interface DatabaseConfig {
  /** SUPABASE_DB_URL: a role that may `set role authenticated` (postgres on Supabase). */
  url: string;
  connectTimeoutSeconds?: number;
  statementTimeoutMs?: number;
  maxConnections?: number;
}

export type Sql = postgres.Sql;

export function connect(config: DatabaseConfig): Sql {
  return postgres(config.url, {
    max: config.maxConnections ?? 4,
    connect_timeout: config.connectTimeoutSeconds ?? 5,
    idle_timeout: 60,
    max_lifetime: 30 * 60,
    prepare: false, // Supavisor's transaction mode has no prepared statements
    onnotice: () => {},
    connection: { application_name: "planner-orchestration" },
  });
}

export interface QueuedRun {
  id: string;
  status: string;
}

/** Inserts the planner run as the user the claims name; throws a Refusal when it is refused. */
export async function queueRun(sql: Sql, claims: Claims, request: PlannerRequest,
                               statementTimeoutMs = 15_000): Promise<QueuedRun> {
  const rows = await sql.begin(async (tx) => {
    await tx`select set_config('statement_timeout', ${String(statementTimeoutMs)}, true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                    set_config('role', 'authenticated', true)`;
    return await tx<QueuedRun[]>`
      insert into public.allocation_planner_runs (allocation_run, n_job_lines, constraints, options)
      values (${request.allocation_run}::uuid, ${request.n_job_lines}, ${request.constraints}::text[],
              ${tx.json(request.options as postgres.JSONValue)})
      returning id, status`;
  });
  return rows[0];
}

// ---------------------------------------------------------------- errors -> answers

// Node-style codes of a connection that could not be made or was lost, and postgres.js's own.
const UNREACHABLE = new Set([
  "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "EPIPE", "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
]);
// SQLSTATEs that mean "not now": connection exceptions (08), shutdown and restart (57P0x),
// too many connections, a statement timeout, lock and serialisation conflicts.
const UNAVAILABLE = /^(08...|57P0.|53300|57014|40001|40P01|55P03)$/;

// What the caller may not do: one answer whether the allocation run is another org's or does not
// exist (23503 would tell them apart; the policy raises 42501 for both).
const FORBIDDEN = new Refusal(403, "allocation_run: you may not start planner runs for this allocation run",
                              "allocation_run");

// "allocation_planner_runs.options.seed: must be ..." -> options.seed, "must be ..."
const FIELD_MESSAGE = /^allocation_planner_runs\.([a-z_]+(?:\.[a-z_]+)?): ([^\n]{1,500})$/;
// Check constraints of the table whose default message names the relation: said here in words.
const CHECKS: Record<string, [string, string]> = {
  n_job_lines_between_1_and_2000: ["n_job_lines", "must be between 1 and 2000"],
  options_is_an_object: ["options", "must be an object"],
};

type PgError = { code?: string; message?: string; constraint_name?: string };

/** The answer for an error raised while queueing; `log` gets the details the answer leaves out. */
export function explain(e: unknown, log: (event: string, detail: unknown) => void): Refusal {
  const err = (e ?? {}) as PgError;
  const code = typeof err.code === "string" ? err.code : "";
  if (UNREACHABLE.has(code) || UNAVAILABLE.test(code)) {
    log("database unavailable", e);
    return new Refusal(503, "the database is unavailable; try again shortly", undefined, { "Retry-After": "5" });
  }
  switch (code) {
    case "42501":
    case "23503":
      log("refused by the database", e);
      return FORBIDDEN;
    case "23505":
      return new Refusal(409, "allocation_run: a planner run is already queued or running for this " +
                              "allocation run; cancel it or wait for it to finish", "allocation_run");
    case "54000":
      return new Refusal(429, "the organisation's planner queue is full; try again when queued runs have started",
                         undefined, { "Retry-After": "30" });
    case "23514":
    case "22023":
    case "22P02": {
      const check = err.constraint_name ? CHECKS[err.constraint_name] : undefined;
      if (check) return new Refusal(400, `${check[0]}: ${check[1]}`, check[0]);
      const m = FIELD_MESSAGE.exec(err.message ?? "");
      if (m) return new Refusal(400, `${m[1]}: ${m[2]}`, m[1]);
      log("invalid request refused by the database", e);
      return new Refusal(400, "(request): the database refused the request as invalid", "(request)");
    }
  }
  log("unexpected error", e);
  return new Refusal(500, "internal error: the planner run was not queued");
}
