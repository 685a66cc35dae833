// errors.test.ts: how the database's errors become answers (explain), error by error.
//
// database.test.ts provokes the real ones; here are the rare ones (a lost connection, a timeout,
// an error nobody expected) and the promise that their details never reach the caller.

import assert from "node:assert/strict";

import { explain } from "./database.ts";

function explained(error: Record<string, unknown>) {
  const logged: unknown[] = [];
  const r = explain(error, (_event, detail) => logged.push(detail));
  return { status: r.status, message: r.message, field: r.field, logged };
}

Deno.test("connection failures and timeouts are 503", () => {
  for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "CONNECT_TIMEOUT",
                      "CONNECTION_CLOSED", "CONNECTION_ENDED", "08006", "57P01", "57P03", "53300", "57014", "40P01"]) {
    const r = explained({ code, message: `connect ${code} 10.0.0.7:5432` });
    assert.equal(r.status, 503, code);
    assert.doesNotMatch(r.message, /10\.0\.0\.7|5432/, code);
    assert.equal(r.logged.length, 1, code);
  }
});

Deno.test("refusals by policy and missing parents are one 403", () => {
  const a = explained({ code: "42501", message: "allocation_planner_runs.allocation_run: permission denied: ..." });
  const b = explained({ code: "23503", message: 'insert violates foreign key constraint "x" Key (id)=(...)' });
  assert.deepEqual([a.status, a.message, a.field], [b.status, b.message, b.field]);
  assert.equal(a.status, 403);
  assert.equal(a.field, "allocation_run");
});

Deno.test("an active run is 409 and a full queue 429, without the database's message", () => {
  const active = explained({ code: "23505", message: "allocation run 1 already has an active planner run 2 (PENDING)" });
  assert.equal(active.status, 409);
  assert.doesNotMatch(active.message, /PENDING|run 2/);
  const full = explained({ code: "54000", message: "allocation_planner_runs: this org already has 20 queued planner runs" });
  assert.equal(full.status, 429);
  assert.doesNotMatch(full.message, /20/);
});

Deno.test("invalid requests are 400 with the field from the message or the constraint", () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ code: "23514", message: "allocation_planner_runs.options.seed: must be a non-negative 32-bit integer" },
     "options.seed", "options.seed: must be a non-negative 32-bit integer"],
    [{ code: "23514", message: "allocation_planner_runs.constraints: unknown ruleset 'FOO'; known: A, B" },
     "constraints", "constraints: unknown ruleset 'FOO'; known: A, B"],
    [{ code: "22023", message: "allocation_planner_runs.n_job_lines: must be between 1 and 2000" },
     "n_job_lines", "n_job_lines: must be between 1 and 2000"],
    [{ code: "23514", constraint_name: "n_job_lines_between_1_and_2000",
       message: 'new row for relation "allocation_planner_runs" violates check constraint "n_job_lines_between_1_and_2000"' },
     "n_job_lines", "n_job_lines: must be between 1 and 2000"],
    [{ code: "22P02", message: 'invalid input syntax for type uuid: "x"' }, "(request)",
     "(request): the database refused the request as invalid"],
    [{ code: "23514", message: "orgs.name: secret other org\nwith a second line" }, "(request)",
     "(request): the database refused the request as invalid"],
  ];
  for (const [error, field, message] of cases) {
    const r = explained(error);
    assert.equal(r.status, 400, String(error.message));
    assert.equal(r.field, field);
    assert.equal(r.message, message);
  }
});

Deno.test("anything else is 500 with a generic message, the details logged", () => {
  for (const error of [{ code: "XX000", message: "select * from public.orgs where id = 'secret'" },
                       { message: "TypeError: x is undefined\n    at handler.ts:12" }, {}]) {
    const r = explained(error);
    assert.equal(r.status, 500);
    assert.equal(r.message, "internal error: the planner run was not queued");
    assert.deepEqual(r.logged, [error]);
  }
  assert.equal(explain(null, () => {}).status, 500);
});
