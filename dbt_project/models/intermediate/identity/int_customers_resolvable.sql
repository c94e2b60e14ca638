-- One row per contact that events may be tied to: every contact not erased (archived).
-- The lookup keys of CONTRACT §2: normalised email and E.164 phone. When two contacts
-- share an email or phone, the earliest-created contact wins (deterministic, and the
-- oldest record is usually the real one; the duplicate is a CRM hygiene problem).
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
)

select
    customer_id,
    case when email_rank = 1 then email end as email_key,
    case when phone_rank = 1 then phone_e164 end as phone_key
from ranked
