-- WARN: two versions of one contact with the same updatedAt but different values (email,
-- phone, names, country, segment, erasure...). stg_crm__contacts keeps the later one (export
-- day, then file path, then line: macros/cdc_version_conflicts.sql); this lists each contact
-- id so that the export can be checked. It never blocks a build.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_crm__contacts'}}}) }}
-- depends_on: {{ ref('stg_crm__contacts') }}

{{ cdc_version_conflicts(source('crm', 'contacts'), 'contact_id', [
    '$.properties.email', '$.properties.phone', '$.properties.firstname', '$.properties.lastname',
    '$.properties.country', '$.properties.hs_language', '$.properties.lifecyclestage',
    '$.properties.customer_segment', '$.createdAt', '$.archived',
]) }}
