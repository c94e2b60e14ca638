-- One row per conversion x service touch before it: which contacts with the shop came in
-- the attribution_lookback_days before a recovered cart or a repeat order, with
-- last-touch, first-touch and linear weights. A conversion without any touch in its
-- lookback is one row with touch_kind 'none' (all weights 1), so that the weights of a
-- conversion always sum to 1 per model and attributed revenue sums to its revenue.
--
-- Conversions (identified customers):
-- - recovered_cart: an abandoned cart whose customer placed a counted order within
--   cart_recovery_days after its window closed (int_carts_summarised); converted_at is that
--   order's time, conversion_revenue its net revenue (reporting currency).
-- - repeat_order: a counted order of a customer with an earlier counted order, at its
--   time, with its net revenue. (An order that recovers a cart is often a repeat order too:
--   it then appears once per conversion type.)
-- Touches (fct_customer_journey, same customer, lookback <= touched_at < converted_at):
-- call_answered (inbound or a callback), ticket_replied (a ticket's first agent reply,
-- from int_tickets_measured), ticket_closed, survey_answered, review_posted.
-- last touch = the latest touch (ties: the greater journey_event_id), first touch = the
-- earliest, linear = 1 / touches.
--
-- Incremental (strategy recent_rows): a run recomputes the conversions dated from
-- recompute_from on (the window start minus the late-data lookback) and reads the touches
-- from attribution_lookback_days (plus a day) before. An erased customer's rows are deleted
-- by the post-hook.
{{ config(
    materialized='incremental',
    recompute_column='conversion_date',
    unique_key='conversion_touch_id',
    on_schema_change='fail',
    post_hook="{{ delete_where(this, 'customer_id in (select contact_id from '
        ~ ref('stg_crm__contacts') ~ ' where is_archived)') }}",
    **incremental_on('recent_rows', partition_by='conversion_date'),
) }}
{%- set lookback_days = var('attribution_lookback_days') | int %}

with counted_orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        net_revenue,
        row_number() over (partition by customer_id order by ordered_at, order_id) as order_number
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null and ordered_at < {{ as_of_end() }}
),

recovering_orders as (
    -- the order that recovered each cart: the customer's first counted order at recovered_at
    select cart_id, customer_id, converted_at, conversion_revenue
    from (
        select
            carts.cart_id,
            carts.customer_id,
            carts.recovered_at as converted_at,
            counted_orders.net_revenue as conversion_revenue,
            row_number() over (partition by carts.cart_id order by counted_orders.order_id) as order_rank
        from {{ ref('int_carts_summarised') }} as carts
        inner join counted_orders
            on carts.customer_id = counted_orders.customer_id
                and carts.recovered_at = counted_orders.ordered_at
        where carts.is_recovered
    ) as ranked
    where order_rank = 1
),

conversions as (
    select
        'recovered_cart' as conversion_type, cart_id as conversion_id, customer_id, converted_at,
        conversion_revenue
    from recovering_orders
    union all
    select 'repeat_order', order_id, customer_id, ordered_at, net_revenue
    from counted_orders
    where order_number > 1
),

{%- if is_incremental() %}

recent_conversions as (
    select * from conversions
    where {{ reporting_date('converted_at') }} >= {{ recent_rows_start('conversion_date') }}
),
{%- set conversions = 'recent_conversions' %}
{%- else %}
{%- set conversions = 'conversions' %}
{%- endif %}

touches as (
    select customer_id, journey_event_id as touch_event_id, touchpoint as touch_kind, occurred_at as touched_at
    from {{ ref('fct_customer_journey') }}
    where customer_id is not null
        and touchpoint in ('call_answered', 'ticket_closed', 'survey_answered', 'review_posted')
    {%- if is_incremental() %}
        and event_date >= {{ dbt.dateadd('day', -(lookback_days + 1), recent_rows_start('conversion_date')) }}
    {%- endif %}
    union all
    select customer_id, {{ surrogate_key(["'reply'", 'ticket_id']) }}, 'ticket_replied', first_replied_at
    from {{ ref('int_tickets_measured') }}
    where customer_id is not null and first_replied_at is not null
    {%- if is_incremental() %}
        and first_replied_at >= {{ dbt.dateadd('day', -(lookback_days + 1), recent_rows_start('conversion_date')) }}
    {%- endif %}
),

matched as (
    select
        conversions.*,
        touches.touch_event_id,
        touches.touch_kind,
        touches.touched_at
    from {{ conversions }} as conversions
    inner join touches
        on conversions.customer_id = touches.customer_id
            and conversions.converted_at > touches.touched_at
            and touches.touched_at >= {{ dbt.dateadd('day', -lookback_days, 'conversions.converted_at') }}
),

positioned as (
    select
        matched.*,
        row_number() over (
            partition by conversion_type, conversion_id order by touched_at, touch_event_id
        ) as touch_position,
        count(*) over (partition by conversion_type, conversion_id) as touches_in_lookback
    from matched
),

weighted as (
    select
        conversion_type, conversion_id, customer_id, converted_at, conversion_revenue,
        touch_event_id, touch_kind, touched_at, touch_position, touches_in_lookback,
        case when touch_position = touches_in_lookback then 1.0 else 0.0 end as last_touch_weight,
        case when touch_position = 1 then 1.0 else 0.0 end as first_touch_weight,
        1.0 / touches_in_lookback as linear_weight
    from positioned
    union all
    select
        conversion_type, conversion_id, customer_id, converted_at, conversion_revenue,
        null, 'none', null, 0, 0, 1.0, 1.0, 1.0
    from {{ conversions }} as conversions
    where
        not exists (
            select 1 from matched
            where matched.conversion_type = conversions.conversion_type
                and matched.conversion_id = conversions.conversion_id
        )
)

select
    {{ surrogate_key(['conversion_type', 'conversion_id', 'touch_event_id']) }} as conversion_touch_id,
    conversion_type,
    conversion_id,
    customer_id,
    converted_at,
    {{ reporting_date('converted_at') }} as conversion_date,
    cast({{ dbt.date_trunc('month', reporting_date('converted_at')) }} as date) as month_start,
    conversion_revenue,
    touch_event_id,
    touch_kind,
    touched_at,
    {{ safe_divide(dbt.datediff('touched_at', 'converted_at', 'second'), '3600') }} as hours_before_conversion,
    touch_position,
    touches_in_lookback,
    cast(last_touch_weight as {{ type_double() }}) as last_touch_weight,
    cast(first_touch_weight as {{ type_double() }}) as first_touch_weight,
    cast(linear_weight as {{ type_double() }}) as linear_weight,
    cast(conversion_revenue * last_touch_weight as {{ dbt.type_numeric() }}) as last_touch_revenue,
    cast(conversion_revenue * first_touch_weight as {{ dbt.type_numeric() }}) as first_touch_revenue,
    cast(conversion_revenue * linear_weight as {{ dbt.type_numeric() }}) as linear_revenue
from weighted
