// database.test.ts: the function against the real schema (SUPABASE_DB_URL, a superuser URL that
// makes the orgs, users and services; the function itself inserts as each user, under RLS).

import assert from "node:assert/strict";

import {
  cancelActive, handlerFor, newService, newUser, post, runRequest, runsOf, type Sql, superuser, tokenFor,
} from "./fixtures.ts";
import type { Handler } from "./handler.ts";

async function withDb(fn: (sql: Sql, handler: Handler & { logged: string[] }) => Promise<void>) {
  const sql = superuser();
  const handler = handlerFor();
  try {
    await fn(sql, handler);
  } finally {
    await handler.close();
    await sql.end({ timeout: 1 });
  }
}

async function send(handler: Handler, body: unknown, userId: string) {
  const res = await handler(post(body, await tokenFor(userId)));
  assert.equal(res.headers.get("Access-Control-Allow-Origin"), "*");
  return { status: res.status, body: await res.json() };
}

async function statusOf(sql: Sql, runId: string): Promise<string> {
  const [{ status }] = await sql`select status from public.allocation_planner_runs where id = ${runId}`;
  return status;
}

Deno.test("a planner's run is queued (202) as that user and solved by the database's worker", () =>
  withDb(async (sql, handler) => {
    const service = await newService(sql);
    const planner = await newUser(sql, service.org, "planner");
    const { status, body } = await send(handler, runRequest(service.allocationRun), planner);
    assert.equal(status, 202, JSON.stringify(body));
    assert.deepEqual(Object.keys(body).sort(), ["planner_run", "status"]);
    assert.equal(body.status, "PENDING");
    const [row] = await sql`select org_id, allocation_run, n_job_lines, constraints, options
                              from public.allocation_planner_runs where id = ${body.planner_run}`;
    assert.deepEqual({ ...row }, {
      org_id: service.org, allocation_run: service.allocationRun, n_job_lines: 2, constraints: ["UNRESTRICTED"],
      options: { allow_partial: false, max_seconds: 10, seed: 1, num_workers: 1 },
    });

    // The function never solves: the run waits for a worker, which the test plays.
    assert.equal(await statusOf(sql, body.planner_run), "PENDING");
    const deadline = Date.now() + 120_000;
    const [{ worker }] = await sql`select planner.worker_statement(1, 5) as worker`;
    while (["PENDING", "GENERATING"].includes(await statusOf(sql, body.planner_run))) {
      assert.ok(Date.now() < deadline, "the worker finished the run within two minutes");
      await sql.unsafe(worker);
    }
    assert.equal(await statusOf(sql, body.planner_run), "COMPLETED");
    const [{ lines }] = await sql`select count(*)::int as lines from public.job_lines
                                   where planner_run_id = ${body.planner_run}
                                     and allocation_run_id = ${service.allocationRun}`;
    assert.equal(lines, 2);
  }));

Deno.test("only planners and admins of the allocation run's org may queue; others get one 403", () =>
  withDb(async (sql, handler) => {
    const a = await newService(sql);
    const b = await newService(sql);
    const users = {
      viewer: await newUser(sql, a.org, "viewer"),
      planner: await newUser(sql, a.org, "planner"),
      admin: await newUser(sql, a.org, "admin"),
      plannerOfB: await newUser(sql, b.org, "planner"),
      noOrg: await newUser(sql),
      notInAuth: crypto.randomUUID(), // validly signed, but no such user
    };
    try {
      const refused = [];
      for (const who of ["viewer", "plannerOfB", "noOrg", "notInAuth"] as const) {
        const { status, body } = await send(handler, runRequest(a.allocationRun), users[who]);
        assert.equal(status, 403, who);
        refused.push(body);
      }
      // Nothing tells a refused caller whether the allocation run exists: the same answer for none.
      const missing = await send(handler, runRequest(crypto.randomUUID()), users.plannerOfB);
      assert.equal(missing.status, 403);
      for (const body of [...refused, missing.body]) {
        assert.deepEqual(body, {
          error: "allocation_run: you may not start planner runs for this allocation run", field: "allocation_run",
        });
      }
      assert.equal(await runsOf(sql, a.allocationRun), 0, "nothing was queued by a refused caller");

      for (const who of ["planner", "admin"] as const) {
        const { status } = await send(handler, runRequest(a.allocationRun), users[who]);
        assert.equal(status, 202, who);
        await cancelActive(sql, a.allocationRun);
      }
    } finally {
      await cancelActive(sql, a.allocationRun);
    }
  }));

Deno.test("an outsider's bad request is 403, not a 400 that would describe another org's run", () =>
  withDb(async (sql, handler) => {
    const a = await newService(sql);
    const b = await newService(sql);
    const outsider = await newUser(sql, b.org, "planner");
    for (const constraints of [["NOT_A_RULESET"], ["UNRESTRICTED", "UNRESTRICTED"]]) {
      const { status, body } = await send(handler, runRequest(a.allocationRun, { constraints }), outsider);
      assert.equal(status, 403, JSON.stringify(body));
    }
  }));

Deno.test("a planner's request the database finds invalid is 400 with its reason and field", () =>
  withDb(async (sql, handler) => {
    const service = await newService(sql);
    const planner = await newUser(sql, service.org, "planner");
    const cases: [string[], RegExp][] = [
      [["NOT_A_RULESET"], /^constraints: unknown ruleset 'NOT_A_RULESET'/],
      [["UNRESTRICTED", "UNRESTRICTED"], /^constraints: a ruleset is named twice/],
    ];
    for (const [constraints, reason] of cases) {
      const { status, body } = await send(handler, runRequest(service.allocationRun, { constraints }), planner);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.field, "constraints");
      assert.match(body.error, reason);
      assert.doesNotMatch(body.error, /allocation_planner_runs|insert|select/i, "no table or SQL in the answer");
    }
    assert.equal(await runsOf(sql, service.allocationRun), 0);
  }));

Deno.test("two simultaneous requests for one allocation run: one 202, one 409", () =>
  withDb(async (sql, handler) => {
    const service = await newService(sql);
    const planner = await newUser(sql, service.org, "planner");
    const token = await tokenFor(planner);
    try {
      const answers = await Promise.all([1, 2].map(async () => {
        const res = await handler(post(runRequest(service.allocationRun), token));
        return { status: res.status, body: await res.json() };
      }));
      assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409], JSON.stringify(answers));
      const queued = answers.find((a) => a.status === 202)!.body;
      const conflict = answers.find((a) => a.status === 409)!.body;
      assert.equal(conflict.field, "allocation_run");
      assert.ok(!JSON.stringify(conflict).includes(queued.planner_run), "the 409 does not echo the database's message");
      assert.equal(await runsOf(sql, service.allocationRun), 1);

      // Still 409 while it waits; once it is cancelled, a new one may be queued.
      assert.equal((await send(handler, runRequest(service.allocationRun), planner)).status, 409);
      await cancelActive(sql, service.allocationRun);
      assert.equal((await send(handler, runRequest(service.allocationRun), planner)).status, 202);
    } finally {
      await cancelActive(sql, service.allocationRun);
    }
  }));

Deno.test("an org whose queue is full is answered 429", () =>
  withDb(async (sql, handler) => {
    const first = await newService(sql);
    const second = await newService(sql, first.org);
    const planner = await newUser(sql, first.org, "planner");
    const [{ cap }] = await sql`select max_queued_per_org as cap from planner.settings`;
    await sql`update planner.settings set max_queued_per_org = 1`;
    try {
      assert.equal((await send(handler, runRequest(first.allocationRun), planner)).status, 202);
      const { status, body } = await send(handler, runRequest(second.allocationRun), planner);
      assert.equal(status, 429, JSON.stringify(body));
      assert.match(body.error, /queue is full/);
    } finally {
      await sql`update planner.settings set max_queued_per_org = ${cap}`;
      await cancelActive(sql, first.allocationRun);
      await cancelActive(sql, second.allocationRun);
    }
  }));

Deno.test("membership is read at each request: a token outlives a removed planner's rights", () =>
  withDb(async (sql, handler) => {
    const service = await newService(sql);
    const planner = await newUser(sql, service.org, "planner");
    await sql`select planner.remove_member(${service.org}::uuid, ${planner}::uuid)`;
    assert.equal((await send(handler, runRequest(service.allocationRun), planner)).status, 403);
  }));
