-- One row per customer touchpoint (CONTRACT §3), every source in one timeline, up to the
-- end of `as_of`. customer_id is null when the evidence does not tie the event to a live
-- contact (CONTRACT §2); an erased contact's events stay (they still count in aggregates)
-- but lose their customer_id. revenue_amount (reporting currency): an order's total on
-- order_placed (0 when cancelled), minus its refund on order_refunded, so that a sum over
-- the journey is net revenue.
with contacts as (
    select stg.contact_id, stg.created_at
    from {{ ref('stg_crm__contacts') }} as stg
    inner join {{ ref('int_customers_resolvable') }} as resolvable on stg.contact_id = resolvable.customer_id
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
        contact_id as source_record_id, contact_id as customer_id, created_at as occurred_at,
        'crm' as source_system, 'signed_up' as touchpoint, 'crm' as channel,
        cast(null as {{ dbt.type_int() }}) as score, cast(null as {{ dbt.type_string() }}) as sentiment,
        cast(null as {{ type_double() }}) as revenue_amount
    from contacts
    where created_at < {{ as_of_end() }}

    union all
    select
        order_id, customer_id, ordered_at, 'crm', 'order_placed', source_store,
        null, null, case when is_counted then gross_revenue else 0 end
    from orders

    union all
    select
        order_id, customer_id, refunded_at, 'crm', 'order_refunded', source_store,
        null, null, -refund_revenue
    from orders
    where refunded_at is not null and refunded_at < {{ as_of_end() }} and is_counted

    union all
    select
        ticket_id, customer_id, created_at, 'crm', 'ticket_opened', lower(channel),
        null, null, null
    from tickets

    union all
    select
        ticket_id, customer_id, closed_at, 'crm', 'ticket_closed', lower(channel),
        null, null, null
    from tickets
    where closed_at is not null

    union all
    select
        submission_id, customer_id, submitted_at, 'crm', 'survey_answered', lower(survey_channel),
        score, sentiment, null
    from surveys

    union all
    select
        call_id, customer_id, started_at, 'calls',
        case when is_answered then 'call_answered' else 'call_missed' end, 'phone',
        null, null, null
    from calls

    union all
    select
        cart_id, customer_id, started_at, 'cart_events', 'cart_started', device_type,
        null, null, null
    from carts

    union all
    select
        cart_id, customer_id, checkout_started_at, 'cart_events', 'checkout_started', device_type,
        null, null, null
    from carts
    where checkout_started_at is not null

    union all
    select
        cart_id, customer_id, window_ends_at, 'cart_events', 'cart_abandoned', device_type,
        null, null, null
    from carts
    where cart_status = 'abandoned'

    union all
    select
        review_id, customer_id, created_at, 'reviews', 'review_posted', source,
        stars,
        case when stars >= 4 then 'positive' when stars <= 2 then 'negative' else 'neutral' end,
        null
    from reviews
),

staged as (
    select
        {{ surrogate_key(['source_system', 'touchpoint', 'source_record_id']) }} as journey_event_id,
        touchpoints.*,
        {{ reporting_date('occurred_at') }} as event_date,
        case
            when touchpoint = 'signed_up' then 'acquisition'
            when touchpoint in ('cart_started', 'checkout_started', 'cart_abandoned') then 'consideration'
            when touchpoint = 'order_placed' then 'purchase'
            when touchpoint = 'order_refunded' then 'post_purchase'
            when touchpoint in ('ticket_opened', 'ticket_closed', 'call_answered', 'call_missed') then 'support'
            when touchpoint in ('survey_answered', 'review_posted') then 'feedback'
        end as journey_stage
    from touchpoints
    where occurred_at < {{ as_of_end() }}
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
        when customer_id is not null then row_number() over (
            partition by customer_id order by occurred_at, journey_event_id
        )
    end as customer_touchpoint_number,
    source_record_id
from staged
