-- WARN: two versions of one ticket with the same updatedAt but different values (stage,
-- priority, category, channel, owner, reply or close time, contact...). stg_crm__tickets
-- keeps the later one (export day, then file path, then line:
-- macros/cdc_version_conflicts.sql); this lists each ticket id so that the export can be
-- checked. It never blocks a build.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_crm__tickets'}}}) }}
-- depends_on: {{ ref('stg_crm__tickets') }}

{{ cdc_version_conflicts(source('crm', 'tickets'), 'ticket_id', [
    '$.properties.hs_pipeline_stage', '$.properties.hs_ticket_priority', '$.properties.hs_ticket_category',
    '$.properties.source_type', '$.properties.hubspot_owner_id', '$.properties.createdate',
    '$.properties.first_agent_reply_date', '$.properties.closed_date', '$.archived',
    '$.associations.contacts.results[0].id',
]) }}
