-- Generated from sql/70_default_affinity.sql by `make migrations`: edit sql/70_default_affinity.sql, not this file.
-- 70_default_affinity.sql: the affinity profile shipped for every org.
--
-- Its weights are an illustration, not evidence: say so in `source`, and let a
-- service replace them with its own profile (a new row, a new version).

insert into public.affinity_profiles (org_id, name, version, source, weights)
values (null, 'default', '1',
        'Illustrative weights set by the Receptor Planner maintainers. They are not derived from data, '
        'from trainee feedback or from any accreditation body: they only encode two common planning habits '
        '(pair an acute-care term with an anaesthetic or intensive-care term; pair general medicine with a '
        'term outside medicine) so that the objective has something to show. Replace them with your '
        'service''s own profile before relying on them.',
        '{"Emergency Medicine": {"Anaesthetics": 20, "Intensive Care Medicine": 20, "General Medicine": 10},
          "Anaesthetics": {"Emergency Medicine": 20, "Intensive Care Medicine": -10},
          "Intensive Care Medicine": {"Emergency Medicine": 20, "Anaesthetics": -10},
          "General Medicine": {"Emergency Medicine": 10, "General Surgery": 10, "Psychiatry": 10},
          "General Surgery": {"General Medicine": 10},
          "Psychiatry": {"General Medicine": 10}}')
on conflict on constraint affinity_profiles_org_id_name_version_key do nothing;
