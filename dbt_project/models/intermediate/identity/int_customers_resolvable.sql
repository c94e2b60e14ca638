-- One row per contact that events may be tied to: every contact not erased (archived).
-- The lookup keys of CONTRACT §2: normalised email and E.164 phone. When two contacts
-- share an email or phone, the earliest-created contact wins (deterministic, and the
-- oldest record is usually the real one; the duplicate is a CRM hygiene problem).
--
-- Incremental by comparison (macro new_or_changed_rows): every row is computed, only new or
-- changed ones are written, and the post-hook deletes the contacts erased since.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    post_hook="delete from {{ this }} where customer_id not in (
        select contact_id from {{ ref('stg_crm__contacts') }} where not is_archived)",
) }}

with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where not is_archived
),

ranked as (
    select
        contacts.contact_id as customer_id,
        contacts.email,
        contacts.phone_e164,
        row_number() over (
            partition by contacts.email order by contacts.created_at, contacts.contact_id
        ) as email_rank,
        row_number() over (
            partition by contacts.phone_e164 order by contacts.created_at, contacts.contact_id
        ) as phone_rank
    from contacts
),

resolvable as (
    select
        customer_id,
        case when email_rank = 1 then email end as email_key,
        case when phone_rank = 1 then phone_e164 end as phone_key
    from ranked
)

{{ new_or_changed_rows('resolvable') }}
