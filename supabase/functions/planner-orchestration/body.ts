// body.ts: the request body, checked before the database is asked anything.
//
// The database checks the same things again (its triggers run the solver's own parse_request);
// checking here answers the common mistakes without a connection and names the field.

import { Refusal } from "./http.ts";

export interface PlannerOptions {
  allow_partial?: boolean;
  max_seconds?: number;
  seed?: number;
  num_workers?: number;
  keep_locked?: boolean;
}

export interface PlannerRequest {
  allocation_run: string;
  n_job_lines: number;
  constraints: string[];
  options: PlannerOptions;
}

const MAX_LINES = 2000;
const MAX_CONSTRAINTS = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RULESET_NAME = /^[A-Z][A-Z0-9_+-]{0,63}$/;
const FIELDS = new Set(["allocation_run", "n_job_lines", "constraints", "options"]);

function bad(field: string, reason: string): Refusal {
  return new Refusal(400, `${field}: ${reason}`, field);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw bad(field, `must be an integer, got ${show(value)}`);
  }
  if (value < min || value > max) throw bad(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function options(value: unknown): PlannerOptions {
  if (value === undefined) return {};
  if (!isObject(value)) throw bad("options", `must be an object, got ${show(value)}`);
  const out: PlannerOptions = {};
  for (const [key, v] of Object.entries(value)) {
    const field = `options.${key}`;
    switch (key) {
      case "allow_partial":
      case "keep_locked":  // the run's locked lines stay as they are (pins of the solve)
        if (typeof v !== "boolean") throw bad(field, `must be true or false, got ${show(v)}`);
        out[key] = v;
        break;
      case "max_seconds":
        if (typeof v !== "number" || !Number.isFinite(v)) throw bad(field, `must be a number, got ${show(v)}`);
        if (!(v > 0 && v <= 3600)) throw bad(field, `must be more than 0 and at most 3600, got ${v}`);
        out.max_seconds = v;
        break;
      case "seed":  // the solver's seed is a non-negative 32-bit integer
        out.seed = integer(v, field, 0, 2 ** 31 - 1);
        break;
      case "num_workers":
        out.num_workers = integer(v, field, 1, 16);
        break;
      default:
        throw bad(field, "unknown option; known: allow_partial, max_seconds, seed, num_workers, keep_locked");
    }
  }
  return out;
}

function constraints(value: unknown): string[] {
  if (value === undefined) return ["UNRESTRICTED"];
  if (!Array.isArray(value)) throw bad("constraints", `must be a list of ruleset names, got ${show(value)}`);
  if (value.length < 1 || value.length > MAX_CONSTRAINTS) {
    throw bad("constraints", `must name 1 to ${MAX_CONSTRAINTS} rulesets, got ${value.length}`);
  }
  for (const name of value) {
    if (typeof name !== "string" || !RULESET_NAME.test(name)) {
      throw bad("constraints", `${show(name)} is not a ruleset name (upper case, e.g. "UNRESTRICTED")`);
    }
  }
  return value as string[];
}

/** The checked request, or a 400 Refusal naming the field. */
export function parseBody(text: string): PlannerRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad("(body)", "must be a JSON object");
  }
  if (!isObject(doc)) throw bad("(body)", `must be a JSON object, got ${show(doc)}`);
  for (const key of Object.keys(doc)) {
    if (!FIELDS.has(key)) throw bad(key, "unknown field; known: allocation_run, n_job_lines, constraints, options");
  }
  if (doc.allocation_run === undefined) throw bad("allocation_run", "is required");
  if (typeof doc.allocation_run !== "string" || !UUID.test(doc.allocation_run)) {
    throw bad("allocation_run", `must be a uuid, got ${show(doc.allocation_run)}`);
  }
  if (doc.n_job_lines === undefined) throw bad("n_job_lines", "is required");
  return {
    allocation_run: doc.allocation_run.toLowerCase(),
    n_job_lines: integer(doc.n_job_lines, "n_job_lines", 1, MAX_LINES),
    constraints: constraints(doc.constraints),
    options: options(doc.options),
  };
}
