-- One row per customer touchpoint (CONTRACT §3), every source in one timeline, up to the
-- end of `as_of`. customer_id is null when the evidence does not tie the event to a live
-- contact; an erased contact's events stay (they still count in aggregates) but lose their
-- customer_id, and no id of the erased contact remains: its sign-up touchpoint has a null
-- source_record_id and a journey_event_id made from the hash of the contact's id and
-- sign-up time, which names nothing that its occurred_at does not already show. (Orders,
-- tickets, surveys... keep their own record ids: they are the shop's records, not the
-- person's.) tests/assert_no_erased_contact_id_in_marts.sql checks it. revenue_amount (reporting currency): an order's total on
-- order_placed (0 when cancelled), minus its refund on order_refunded, so that a sum over
-- the journey is net revenue.
--
-- Incremental (strategy `journey`, macros/incremental.sql): a run compares the touchpoints
-- from recompute_from on (the window start minus the late-data lookback) with the rows
-- held, and recomputes the whole history of every customer that changed: one with a recent
-- touchpoint that is new, gone or different (before or after), a contact exported in that
-- range (a call or review may now resolve to it), the new owner of a cart that changed
-- owner in that range (its device was re-identified), and the former owner of any touchpoint these now
-- hold (a visitor logs in), so numbering stays exact. Recent anonymous touchpoints are
-- recomputed too; an erased contact's older touchpoints lose their customer_id in the same
-- run. Every other row is kept as it is: a customer whose recent touchpoints are unchanged
-- is not rewritten.
{{ config(
    materialized='incremental',
    unique_key='journey_event_id',
    on_schema_change='fail',
    post_hook="{{ delete_where(this, 'customer_id in (select contact_id from '
        ~ ref('stg_crm__contacts') ~ ' where is_archived)') }}",
    **incremental_on('journey', partition_by='event_date'),
) }}

with contacts as (
    -- an erased contact's sign-up stays, without its customer_id, like its other events, and
    -- without its contact id: record_key (what journey_event_id is made from) is then a hash
    select
        case when resolvable.customer_id is not null then stg.contact_id end as customer_id,
        case when resolvable.customer_id is not null then stg.contact_id end as source_record_id,
        case
            when resolvable.customer_id is not null then stg.contact_id
            else {{ surrogate_key(['stg.contact_id', 'stg.created_at']) }}
        end as record_key,
        stg.created_at
    from {{ ref('stg_crm__contacts') }} as stg
    left join {{ ref('int_customers_resolvable') }} as resolvable on stg.contact_id = resolvable.customer_id
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

surveys as (
    select * from {{ ref('int_survey_responses_scored') }}
),

calls as (
    select * from {{ ref('int_calls_measured') }}
),

carts as (
    select * from {{ ref('int_carts_summarised') }}
),

reviews as (
    select * from {{ ref('int_reviews_identified') }}
),

touchpoints as (
    select
        record_key, source_record_id, customer_id, created_at as occurred_at,
        'crm' as source_system, 'signed_up' as touchpoint, 'crm' as channel,
        cast(null as {{ dbt.type_int() }}) as score, cast(null as {{ dbt.type_string() }}) as sentiment,
        cast(null as {{ type_double() }}) as revenue_amount
    from contacts
    where created_at < {{ as_of_end() }}

    union all
    select
        order_id, order_id, customer_id, ordered_at, 'crm', 'order_placed', source_store,
        null, null, case when is_counted then gross_revenue else 0 end
    from orders

    union all
    select
        order_id, order_id, customer_id, refunded_at, 'crm', 'order_refunded', source_store,
        null, null, -refund_revenue
    from orders
    where refunded_at is not null and refunded_at < {{ as_of_end() }} and is_counted

    union all
    select
        ticket_id, ticket_id, customer_id, created_at, 'crm', 'ticket_opened', lower(channel),
        null, null, null
    from tickets

    union all
    select
        ticket_id, ticket_id, customer_id, closed_at, 'crm', 'ticket_closed', lower(channel),
        null, null, null
    from tickets
    where closed_at is not null

    union all
    select
        submission_id, submission_id, customer_id, submitted_at, 'crm', 'survey_answered', lower(survey_channel),
        score, sentiment, null
    from surveys

    union all
    select
        call_id, call_id, customer_id, started_at, 'calls',
        case when is_answered then 'call_answered' else 'call_missed' end, 'phone',
        null, null, null
    from calls

    union all
    select
        cart_id, cart_id, customer_id, started_at, 'cart_events', 'cart_started', device_type,
        null, null, null
    from carts

    union all
    select
        cart_id, cart_id, customer_id, checkout_started_at, 'cart_events', 'checkout_started', device_type,
        null, null, null
    from carts
    where checkout_started_at is not null

    union all
    select
        cart_id, cart_id, customer_id, window_ends_at, 'cart_events', 'cart_abandoned', device_type,
        null, null, null
    from carts
    where cart_status = 'abandoned'

    union all
    select
        review_id, review_id, customer_id, created_at, 'reviews', 'review_posted', source,
        stars,
        case when stars >= 4 then 'positive' when stars <= 2 then 'negative' else 'neutral' end,
        null
    from reviews
),

dated as (
    select
        touchpoints.*,
        {{ reporting_date('occurred_at') }} as event_date
    from touchpoints
    where occurred_at < {{ as_of_end() }}
),

{% if is_incremental() %}
{#- Touchpoints are narrowed down before their surrogate keys are computed: a run keys
    the touchpoints it compares or recomputes, not the whole history. -#}
{%- set recompute_from_day = recompute_from(this, 'event_date') %}
recent as (
    select
        {{ surrogate_key(['source_system', 'touchpoint', 'record_key']) }} as journey_event_id,
        dated.*
    from dated
    where event_date >= {{ recompute_from_day }}
),

held_recent as (
    select *
    from {{ this }}
    where event_date >= {{ recompute_from_day }}
),

changed_touchpoints as (
    -- recent touchpoints that are new, gone, or different from the row held
    select recent.customer_id as customer_id, held_recent.customer_id as held_customer_id
    from recent
    full outer join held_recent on recent.journey_event_id = held_recent.journey_event_id
    where recent.journey_event_id is null
        or held_recent.journey_event_id is null
        or {{ any_column_differs('recent', 'held_recent',
            ['customer_id', 'occurred_at', 'channel', 'score', 'sentiment', 'revenue_amount']) }}
),

changed_customers as (
    select customer_id from changed_touchpoints where customer_id is not null
    union
    select held_customer_id from changed_touchpoints where held_customer_id is not null
    union
    -- a contact edited or created: a call or review may now resolve to it, at any date
    select contact_id
    from {{ ref('stg_crm__contacts') }}
    where exported_dt >= {{ recompute_from_day }}
    union
    -- a cart that changed owner (its device was re-identified), at any date
    select customer_id
    from {{ ref('int_carts_summarised') }}
    where customer_id is not null and owner_changed_as_of >= {{ recompute_from_day }}
),

changed_customer_touchpoints as (
    select *
    from dated
    where customer_id in (select changed_customers.customer_id from changed_customers)
),

previous_owners as (
    -- older events now tied to a changed customer: their former customer is renumbered too
    select distinct existing.customer_id
    from {{ this }} as existing
    inner join (
        select
            {{ surrogate_key(['source_system', 'touchpoint', 'record_key']) }} as journey_event_id,
            customer_id
        from changed_customer_touchpoints
    ) as moved on existing.journey_event_id = moved.journey_event_id
    where existing.customer_id is not null
        and existing.customer_id <> moved.customer_id
),

erased_contacts as (
    -- contacts erased (archived) in the recomputed range (not resolvable = archived:
    -- int_customers_resolvable is every contact not archived; an erasure is a contact
    -- version, exported that day)
    select erased.contact_id
    from {{ ref('stg_crm__contacts') }} as erased
    where erased.is_archived and erased.exported_dt >= {{ recompute_from_day }}
),

erased_records as (
    -- touchpoints held for those contacts, by source record: a wider net than the key,
    -- which costs nothing, as a batch row that was not needed replaces an identical one;
    -- and their sign-ups, now keyed without the contact id (the held row, keyed by the
    -- id, is deleted by the post-hook)
    select existing.source_record_id as record_key
    from {{ this }} as existing
    where existing.customer_id in (select erased_contacts.contact_id from erased_contacts)
    union all
    select {{ surrogate_key(['erased.contact_id', 'erased.created_at']) }}
    from {{ ref('stg_crm__contacts') }} as erased
    where erased.contact_id in (select erased_contacts.contact_id from erased_contacts)
),

selected as (
    select * from changed_customer_touchpoints
    union all
    select *
    from dated
    where customer_id in (select previous_owners.customer_id from previous_owners)
        and customer_id not in (select changed_customers.customer_id from changed_customers)
    union all
    select *
    from dated
    where customer_id is null
        and (
            event_date >= {{ recompute_from_day }}
            or record_key in (select erased_records.record_key from erased_records)
        )
),
{% else %}
selected as (
    select * from dated
),
{% endif %}

batch as (
    select
        {{ surrogate_key(['source_system', 'touchpoint', 'record_key']) }} as journey_event_id,
        selected.*,
        case
            when touchpoint = 'signed_up' then 'acquisition'
            when touchpoint in ('cart_started', 'checkout_started', 'cart_abandoned') then 'consideration'
            when touchpoint = 'order_placed' then 'purchase'
            when touchpoint = 'order_refunded' then 'post_purchase'
            when touchpoint in ('ticket_opened', 'ticket_closed', 'call_answered', 'call_missed') then 'support'
            when touchpoint in ('survey_answered', 'review_posted') then 'feedback'
        end as journey_stage
    from selected
)

select
    journey_event_id,
    customer_id,
    occurred_at,
    event_date,
    source_system,
    touchpoint,
    channel,
    journey_stage,
    score,
    sentiment,
    revenue_amount,
    case
        when customer_id is not null
            then row_number() over (partition by customer_id order by occurred_at, journey_event_id)
    end as customer_touchpoint_number,
    source_record_id
from batch
{{ full_refresh_order_by('event_date') }}
