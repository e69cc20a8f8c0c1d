-- Rendered by Jinja before it runs: {{ params.campaign }} comes from the DAG's params.
SELECT '{{ params.campaign }}' AS record_id, lead_id AS id, status AS "Member_Status"
FROM e2e_members
WHERE lead_id <> '{{ params.skip_lead }}'
