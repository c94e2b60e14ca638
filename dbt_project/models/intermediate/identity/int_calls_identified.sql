-- One row per call known by the end of `as_of` (received by then, started before its end),
-- with the contact whose phone (E.164) matches the caller's number (CONTRACT §2).
-- A view: int_calls_measured is its only reader, so a table would copy every call once more
-- on every run.
{{ config(materialized='view') }}
with calls as (
    select * from {{ ref('stg_calls__calls') }}
    where received_dt <= {{ as_of_date() }}
        and started_at < {{ as_of_end() }}
),

customers as (
    select * from {{ ref('int_customers_resolvable') }}
    where phone_key is not null
)

select
    calls.*,
    customers.customer_id
from calls
left join customers on calls.caller_phone_e164 = customers.phone_key
