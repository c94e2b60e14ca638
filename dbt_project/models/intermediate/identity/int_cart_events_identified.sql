-- One row per Segment track event with the CRM contact it belongs to (CONTRACT §2):
-- its own userId; else the userId of another event of the same anonymousId (the
-- visitor logged in before or after); else its context.traits.email; else an email
-- given on another event of the same anonymousId. Only live (not erased) contacts match.
-- It carries the identity evidence and what the cart summary reads, not the event's
-- properties (product, price, revenue...): those stay in stg_cart_events__tracks, one join
-- on message_id away. A run re-reads the events of every touched device, and the columns
-- it reads are what that scan of all 16 M events costs.
--
-- Incremental (delete+insert on message_id): a run re-identifies every event of each device
-- (anonymous_id) that could have changed: devices with a new event received in the run's
-- window (plus the late-data lookback; a login re-attributes the device's older events),
-- and devices with an event tied, now or before, to a contact whose CRM record changed in
-- that window (new, edited, erased). Other events keep the identity they have.
-- identified_at is when the run that (re)wrote the row started: int_carts_summarised
-- recomputes exactly the carts with an event rewritten since it last ran.
-- depends_on: {{ ref('stg_crm__contacts') }}
{{ config(
    materialized='incremental',
    unique_key='message_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='received_dt'),
) }}

{#- What was known by the end of as_of: arrived by then, happened before its end. Written
    into each branch rather than as one CTE: a CTE over the 16 M-row events table that four
    branches read is materialized whole before any branch filters it. -#}
{%- set tracks = ref('stg_cart_events__tracks') -%}
{%- set event_columns -%}
message_id, anonymous_id, user_id, traits_email, event_name, cart_id, occurred_at, device_type, received_dt
{%- endset -%}
{%- set known -%}
received_dt <= {{ as_of_date() }} and occurred_at < {{ as_of_end() }}
{%- endset %}

with customers as (
    select * from {{ ref('int_customers_resolvable') }}
),

{% if is_incremental() %}
changed_contacts as (
    select contact_id, email
    from {{ ref('stg_crm__contacts') }}
    where {{ incremental_dt_filter('exported_dt', 'received_dt') }}
),

touched as (
    -- events new since the last run (re-read days hold mostly events already identified;
    -- an event keeps its received_dt, so only the held rows of those days need comparing)
    select message_id, anonymous_id
    from {{ tracks }}
    where {{ known }}
        and {{ incremental_dt_filter('received_dt', 'received_dt') }}
        and message_id not in (
            select held.message_id
            from {{ this }} as held
            where held.received_dt >= {{ recompute_from(this, 'received_dt') }}
        )
    union all
    select message_id, anonymous_id
    from {{ tracks }}
    where {{ known }} and user_id in (select changed_contacts.contact_id from changed_contacts)
    union all
    select message_id, anonymous_id
    from {{ tracks }}
    where {{ known }} and traits_email in (select changed_contacts.email from changed_contacts)
    union all
    select held.message_id, held.anonymous_id
    from {{ this }} as held
    where held.customer_id in (select changed_contacts.contact_id from changed_contacts)
),

events as (
    -- (no OR of two IN lists: each branch stays a plain semi-join)
    select {{ event_columns }}
    from {{ tracks }}
    where {{ known }} and anonymous_id in (select touched.anonymous_id from touched)
    union all
    select {{ event_columns }}
    from {{ tracks }}
    where {{ known }} and anonymous_id is null and message_id in (select touched.message_id from touched)
),
{% else %}
events as (
    select {{ event_columns }}
    from {{ tracks }}
    where {{ known }}
),
{% endif %}

device_users as (
    -- the most recent logged-in user of each device
    select anonymous_id, user_id
    from (
        select
            events.anonymous_id,
            events.user_id,
            row_number() over (
                partition by events.anonymous_id order by events.occurred_at desc, events.message_id desc
            ) as recency_rank
        from events
        inner join customers on events.user_id = customers.customer_id
        where events.anonymous_id is not null
    ) as ranked
    where recency_rank = 1
),

device_emails as (
    select anonymous_id, traits_email
    from (
        select
            events.anonymous_id,
            events.traits_email,
            row_number() over (
                partition by events.anonymous_id order by events.occurred_at desc, events.message_id desc
            ) as recency_rank
        from events
        inner join customers on events.traits_email = customers.email_key
        where events.anonymous_id is not null
    ) as ranked
    where recency_rank = 1
),

identified as (
    select
        events.*,
        coalesce(own_user.customer_id, device_user.customer_id, own_email.customer_id, device_email.customer_id)
            as customer_id,
        case
            when own_user.customer_id is not null then 'user_id'
            when device_user.customer_id is not null then 'anonymous_id'
            when own_email.customer_id is not null then 'email'
            when device_email.customer_id is not null then 'anonymous_id_email'
        end as identified_by,
        {{ run_started_at_timestamp() }} as identified_at
    from events
    left join customers as own_user on events.user_id = own_user.customer_id
    left join device_users on events.anonymous_id = device_users.anonymous_id
    left join customers as device_user on device_users.user_id = device_user.customer_id
    left join customers as own_email on events.traits_email = own_email.email_key
    left join device_emails on events.anonymous_id = device_emails.anonymous_id
    left join customers as device_email on device_emails.traits_email = device_email.email_key
)

select * from identified
{{ full_refresh_order_by('received_dt') }}
