-- seed.sql: the demo service, its users, and a second org to attack it from.
-- `supabase db push --include-seed` (and `supabase db reset`) run it after the migrations; re-running it
-- changes nothing. Fixed ids, so tests and the pgTAP matrix can name each actor.
--
--   Banksia Health (org A)  aaaaaaaa-0000-4000-8000-000000000000  the demo service (examples/metro-pgy1.json)
--     admin                 aaaaaaaa-0000-4000-8000-000000000001  admin@banksia.example
--     planner               aaaaaaaa-0000-4000-8000-000000000002  planner@banksia.example
--     viewer                aaaaaaaa-0000-4000-8000-000000000003  viewer@banksia.example
--   Other Health (org B)    bbbbbbbb-0000-4000-8000-000000000000  one position, one term
--     planner               bbbbbbbb-0000-4000-8000-000000000002  planner@other.example
--   signed in, no org       cccccccc-0000-4000-8000-000000000001  nobody@example.com
--
-- Abuser stories (who tries what; the policies and the pgTAP matrix refuse each):
--   AB-01  anon (no sign-in, the public anon key) reads or writes anything.
--   AB-02  the planner of Other Health reads or changes Banksia Health's rows.
--   AB-03  Banksia's viewer starts or cancels a planner run.
--   AB-04  a planner inserts a planner run as COMPLETED, or edits another org's rotations.
--   AB-05  a session sets planner.python_path to a folder of its own, to run its own code in the server.

-- ---------------------------------------------------------------- users

-- On a real Supabase these are GoTrue's users (no password: sign-in is set up there); on plain
-- PostgreSQL, supabase/compat.sql's stand-in table.
insert into auth.users (id, email) values
  ('aaaaaaaa-0000-4000-8000-000000000001', 'admin@banksia.example'),
  ('aaaaaaaa-0000-4000-8000-000000000002', 'planner@banksia.example'),
  ('aaaaaaaa-0000-4000-8000-000000000003', 'viewer@banksia.example'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'planner@other.example'),
  ('cccccccc-0000-4000-8000-000000000001', 'nobody@example.com')
on conflict (id) do nothing;

-- ---------------------------------------------------------------- orgs

insert into public.orgs (id, name) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Banksia Health'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Other Health')
on conflict (id) do nothing;

-- Other Health: one position and one ten-week term, enough for an allocation run of its own.
select planner.import_instance($doc${
  "format": "receptor-planner/instance@1",
  "org": {"name": "Other Health"},
  "cohort": "PGY1",
  "start_date": "2027-01-25",
  "term_weeks": [10],
  "leave": {"weeks": 0},
  "positions": [
    {"key": "OTH-GMED", "name": "General Medicine, Other Hospital", "specialty": "General Medicine", "categories": ["A"], "capacity": 1, "min_fill": 1}
  ]
}$doc$::jsonb, 'bbbbbbbb-0000-4000-8000-000000000000')
 where not exists (select 1 from public.allocation_runs where org_id = 'bbbbbbbb-0000-4000-8000-000000000000');

-- Banksia Health: examples/metro-pgy1.json, verbatim (a test keeps the two equal).
select planner.import_instance($doc$
{
  "format": "receptor-planner/instance@1",
  "org": {"name": "Banksia Health"},
  "cohort": "PGY1",
  "start_date": "2027-01-25",
  "term_weeks": [10, 10, 10, 10, 12],
  "leave": {"weeks": 5, "patterns": [[5], [2, 3], [3, 2]], "min_gap_weeks": 13, "within_term": true, "max_concurrent": 19},
  "positions": [
    {"key": "BCH-ED1", "name": "Emergency Medicine Unit 1, Banksia Central Hospital", "team": "BCH Emergency", "specialty": "Emergency Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [6, 6, 5, 5, 6], "min_fill": [6, 6, 5, 5, 6], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-ED2", "name": "Emergency Medicine Unit 2, Banksia Central Hospital", "team": "BCH Emergency", "specialty": "Emergency Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [5, 6, 5, 5, 6], "min_fill": [5, 6, 5, 5, 6], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-ASU", "name": "Acute Surgical Unit, Banksia Central Hospital", "team": "BCH Acute Surgery", "specialty": "General Surgery", "subspecialty": "Acute Surgery", "categories": ["C", "D"], "capacity": [2, 2, 2, 3, 2], "min_fill": [2, 2, 2, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GMED1", "name": "General Medicine Unit 1, Banksia Central Hospital", "team": "BCH General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": 4, "min_fill": 4, "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GMED2", "name": "General Medicine Unit 2, Banksia Central Hospital", "team": "BCH General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": [3, 3, 4, 4, 2], "min_fill": [3, 3, 4, 4, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GMED3", "name": "General Medicine Unit 3, Banksia Central Hospital", "team": "BCH General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": 4, "min_fill": 4, "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-CARD", "name": "Cardiology, Banksia Central Hospital", "team": "BCH Cardiology", "specialty": "General Medicine", "subspecialty": "Cardiology", "categories": ["A", "C"], "capacity": [2, 2, 2, 2, 1], "min_fill": [2, 2, 2, 2, 1], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-RESP", "name": "Respiratory Medicine, Banksia Central Hospital", "team": "BCH Respiratory", "specialty": "General Medicine", "subspecialty": "Respiratory Medicine", "categories": ["A", "B"], "capacity": [2, 2, 2, 1, 2], "min_fill": [2, 2, 2, 1, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-RENAL", "name": "Renal Medicine, Banksia Central Hospital", "team": "BCH Nephrology", "specialty": "General Medicine", "subspecialty": "Renal Medicine", "categories": ["B"], "capacity": [1, 1, 2, 1, 2], "min_fill": [1, 1, 2, 1, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GASTRO", "name": "Gastroenterology, Banksia Central Hospital", "team": "BCH Gastroenterology", "specialty": "General Medicine", "subspecialty": "Gastroenterology", "categories": ["A", "B"], "capacity": [0, 1, 2, 1, 2], "min_fill": [0, 1, 2, 1, 2], "terms": [2, 3, 4, 5], "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-NEURO", "name": "Neurology and Stroke, Banksia Central Hospital", "team": "BCH Neurology", "specialty": "General Medicine", "subspecialty": "Neurology", "categories": ["A", "C"], "capacity": [2, 1, 1, 1, 2], "min_fill": [2, 1, 1, 1, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GSURG1", "name": "General Surgery Unit 1, Banksia Central Hospital", "team": "BCH General Surgery", "specialty": "General Surgery", "subspecialty": null, "categories": ["D"], "capacity": [3, 4, 3, 3, 3], "min_fill": [3, 4, 3, 3, 3], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-GSURG2", "name": "General Surgery Unit 2, Banksia Central Hospital", "team": "BCH General Surgery", "specialty": "General Surgery", "subspecialty": null, "categories": ["D"], "capacity": [4, 3, 3, 4, 3], "min_fill": [4, 3, 3, 4, 3], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-COLO", "name": "Colorectal Surgery, Banksia Central Hospital", "team": "BCH Colorectal", "specialty": "General Surgery", "subspecialty": "Colorectal Surgery", "categories": ["D"], "capacity": [1, 3, 1, 2, 2], "min_fill": [1, 3, 1, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-VASC", "name": "Vascular Surgery, Banksia Central Hospital", "team": "BCH Vascular", "specialty": "General Surgery", "subspecialty": "Vascular Surgery", "categories": ["C", "D"], "capacity": [3, 2, 2, 2, 2], "min_fill": [3, 2, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-ORTHO", "name": "Orthopaedic Surgery, Banksia Central Hospital", "team": "BCH Orthopaedics", "specialty": "General Surgery", "subspecialty": "Orthopaedics", "categories": ["D"], "capacity": [2, 2, 3, 2, 2], "min_fill": [2, 2, 3, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-UROL", "name": "Urology, Banksia Central Hospital", "team": "BCH Urology", "specialty": "General Surgery", "subspecialty": "Urology", "categories": ["D"], "capacity": [1, 3, 2, 3, 2], "min_fill": [1, 3, 2, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-ANAES", "name": "Anaesthetics, Banksia Central Hospital", "team": "BCH Anaesthesia", "specialty": "Anaesthetics", "subspecialty": null, "categories": ["C", "D"], "capacity": [3, 1, 2, 2, 2], "min_fill": [3, 1, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-ICU", "name": "Intensive Care, Banksia Central Hospital", "team": "BCH Intensive Care", "specialty": "Intensive Care Medicine", "subspecialty": null, "categories": ["C", "D"], "capacity": [1, 1, 2, 2, 2], "min_fill": [1, 1, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-PSYCH", "name": "Psychiatry, Banksia Central Hospital", "team": "BCH Mental Health", "specialty": "Psychiatry", "subspecialty": null, "categories": ["A", "B"], "capacity": 2, "min_fill": 2, "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-OBGYN", "name": "Obstetrics and Gynaecology, Banksia Central Hospital", "team": "BCH Women's Health", "specialty": "Obstetrics and Gynaecology", "subspecialty": null, "categories": ["C", "D"], "capacity": [3, 2, 2, 3, 2], "min_fill": [3, 2, 2, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-RELIEF", "name": "Medical Relief, Banksia Central Hospital", "team": "BCH Relief", "specialty": "General Medicine", "subspecialty": null, "categories": ["A"], "capacity": [2, 1, 1, 2, 0], "min_fill": [2, 1, 1, 2, 0], "terms": [1, 2, 3, 4], "service": true, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-NIGHTS", "name": "Night Medical Cover, Banksia Central Hospital", "team": "BCH After Hours", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [2, 2, 2, 1, 0], "min_fill": [2, 2, 2, 1, 0], "terms": [1, 2, 3, 4], "service": true, "nights": true, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "BCH-RURGM", "name": "Rural General Medicine, Mallee Springs (secondment)", "team": "BCH Rural Secondment", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": [1, 1, 1, 1, 2], "min_fill": 0, "terms": null, "service": false, "nights": false, "rural": true, "non_clinical": false, "excludable": true},
    {"key": "BCH-ONC", "name": "Medical Oncology, Banksia Central Hospital", "team": "BCH Oncology", "specialty": "General Medicine", "subspecialty": "Medical Oncology", "categories": ["B"], "capacity": [2, 1, 2, 2, 2], "min_fill": [1, 0, 1, 1, 1], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": true},
    {"key": "BCH-PAEDS", "name": "Paediatrics, Banksia Central Hospital", "team": "BCH Paediatrics", "specialty": "Paediatrics", "subspecialty": null, "categories": ["A", "C"], "capacity": [2, 2, 2, 2, 3], "min_fill": [2, 2, 2, 2, 3], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-ED", "name": "Emergency Medicine, Northgate Hospital", "team": "NTH Emergency", "specialty": "Emergency Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [5, 5, 5, 5, 6], "min_fill": [5, 5, 5, 5, 6], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-GMED1", "name": "General Medicine Unit 1, Northgate Hospital", "team": "NTH General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": [4, 3, 4, 4, 4], "min_fill": [4, 3, 4, 4, 4], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-GMED2", "name": "General Medicine Unit 2, Northgate Hospital", "team": "NTH General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": [3, 4, 3, 4, 4], "min_fill": [3, 4, 3, 4, 4], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-CARD", "name": "Cardiology, Northgate Hospital", "team": "NTH Cardiology", "specialty": "General Medicine", "subspecialty": "Cardiology", "categories": ["A", "C"], "capacity": [1, 2, 2, 2, 2], "min_fill": [1, 2, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-GERI", "name": "Geriatric Medicine, Northgate Hospital", "team": "NTH Aged Care", "specialty": "General Medicine", "subspecialty": "Geriatric Medicine", "categories": ["B"], "capacity": [1, 1, 2, 2, 2], "min_fill": [1, 1, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-RESP", "name": "Respiratory Medicine, Northgate Hospital", "team": "NTH Respiratory", "specialty": "General Medicine", "subspecialty": "Respiratory Medicine", "categories": ["A", "B"], "capacity": [2, 1, 1, 0, 2], "min_fill": [2, 1, 1, 0, 2], "terms": [1, 2, 3, 5], "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-GSURG", "name": "General Surgery, Northgate Hospital", "team": "NTH General Surgery", "specialty": "General Surgery", "subspecialty": null, "categories": ["D"], "capacity": [3, 3, 3, 3, 4], "min_fill": [3, 3, 3, 3, 4], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-ORTHO", "name": "Orthopaedic Surgery, Northgate Hospital", "team": "NTH Orthopaedics", "specialty": "General Surgery", "subspecialty": "Orthopaedics", "categories": ["D"], "capacity": [3, 2, 2, 2, 2], "min_fill": [3, 2, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-UROL", "name": "Urology, Northgate Hospital", "team": "NTH Urology", "specialty": "General Surgery", "subspecialty": "Urology", "categories": ["D"], "capacity": [3, 2, 1, 1, 2], "min_fill": [3, 2, 1, 1, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-ANAES", "name": "Anaesthetics, Northgate Hospital", "team": "NTH Anaesthesia", "specialty": "Anaesthetics", "subspecialty": null, "categories": ["C", "D"], "capacity": [1, 2, 2, 1, 2], "min_fill": [1, 2, 2, 1, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-PSYCH", "name": "Psychiatry, Northgate Hospital", "team": "NTH Mental Health", "specialty": "Psychiatry", "subspecialty": null, "categories": ["A", "B"], "capacity": [2, 2, 3, 2, 2], "min_fill": [2, 2, 3, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-PAEDS", "name": "Paediatrics, Northgate Hospital", "team": "NTH Paediatrics", "specialty": "Paediatrics", "subspecialty": null, "categories": ["A", "C"], "capacity": [2, 2, 2, 3, 2], "min_fill": [2, 2, 2, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-OBGYN", "name": "Obstetrics and Gynaecology, Northgate Hospital", "team": "NTH Women's Health", "specialty": "Obstetrics and Gynaecology", "subspecialty": null, "categories": ["C", "D"], "capacity": [3, 3, 2, 2, 4], "min_fill": [3, 3, 2, 2, 4], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-RELIEF", "name": "Medical Relief, Northgate Hospital", "team": "NTH Relief", "specialty": "General Medicine", "subspecialty": null, "categories": ["A"], "capacity": [2, 2, 2, 2, 0], "min_fill": [2, 2, 2, 2, 0], "terms": [1, 2, 3, 4], "service": true, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-NIGHTS", "name": "Night Medical Cover, Northgate Hospital", "team": "NTH After Hours", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [2, 2, 2, 1, 0], "min_fill": [2, 2, 2, 1, 0], "terms": [1, 2, 3, 4], "service": true, "nights": true, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "NTH-RURED", "name": "Rural Emergency Medicine, Coolabah Crossing (secondment)", "team": "NTH Rural Secondment", "specialty": "Emergency Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [2, 2, 3, 2, 2], "min_fill": [2, 2, 3, 2, 2], "terms": null, "service": false, "nights": false, "rural": true, "non_clinical": false, "excludable": false},
    {"key": "NTH-REHAB", "name": "Rehabilitation Medicine, Northgate Hospital", "team": "NTH Rehabilitation", "specialty": "Rehabilitation Medicine", "subspecialty": null, "categories": ["B"], "capacity": 1, "min_fill": 0, "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": true},
    {"key": "RVB-ED", "name": "Emergency Medicine, Riverbend Hospital", "team": "RVB Emergency", "specialty": "Emergency Medicine", "subspecialty": null, "categories": ["A", "C"], "capacity": [5, 5, 5, 6, 6], "min_fill": [5, 5, 5, 6, 6], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-GMED", "name": "General Medicine, Riverbend Hospital", "team": "RVB General Medicine", "specialty": "General Medicine", "subspecialty": null, "categories": ["A", "B"], "capacity": [3, 4, 3, 3, 2], "min_fill": [3, 4, 3, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-GERI", "name": "Geriatric Medicine, Riverbend Hospital", "team": "RVB Aged Care", "specialty": "General Medicine", "subspecialty": "Geriatric Medicine", "categories": ["B"], "capacity": [2, 1, 2, 2, 2], "min_fill": [2, 1, 2, 2, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-GSURG", "name": "General Surgery, Riverbend Hospital", "team": "RVB General Surgery", "specialty": "General Surgery", "subspecialty": null, "categories": ["D"], "capacity": [3, 4, 3, 3, 4], "min_fill": [3, 4, 3, 3, 4], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-ORTHO", "name": "Orthopaedic Surgery, Riverbend Hospital", "team": "RVB Orthopaedics", "specialty": "General Surgery", "subspecialty": "Orthopaedics", "categories": ["D"], "capacity": [2, 2, 2, 3, 2], "min_fill": [2, 2, 2, 3, 2], "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-PSYCH", "name": "Psychiatry, Riverbend Hospital", "team": "RVB Mental Health", "specialty": "Psychiatry", "subspecialty": null, "categories": ["A", "B"], "capacity": 2, "min_fill": 2, "terms": null, "service": false, "nights": false, "rural": false, "non_clinical": false, "excludable": false},
    {"key": "RVB-RELIEF", "name": "Medical Relief, Riverbend Hospital", "team": "RVB Relief", "specialty": "General Medicine", "subspecialty": null, "categories": ["A"], "capacity": [1, 2, 1, 1, 0], "min_fill": [1, 2, 1, 1, 0], "terms": [1, 2, 3, 4], "service": true, "nights": false, "rural": false, "non_clinical": false, "excludable": false}
  ],
  "pins": [],
  "affinity": null
}$doc$::jsonb, 'aaaaaaaa-0000-4000-8000-000000000000')
 where not exists (select 1 from public.allocation_runs where org_id = 'aaaaaaaa-0000-4000-8000-000000000000');

-- ---------------------------------------------------------------- memberships

select planner.add_member(m.org, m.user_id, m.role)
  from (values
    ('aaaaaaaa-0000-4000-8000-000000000000'::uuid, 'aaaaaaaa-0000-4000-8000-000000000001'::uuid, 'admin'),
    ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000002', 'planner'),
    ('aaaaaaaa-0000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000003', 'viewer'),
    ('bbbbbbbb-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000002', 'planner')
  ) as m (org, user_id, role);
