-- One row per pair of consecutive opinions of a customer: an NPS, CSAT or CES answer or a
-- review (touchpoints survey_answered and review_posted of fct_customer_journey, whose
-- sentiment already maps each scale's top band to positive and its bottom band to
-- negative), with what happened strictly between the two (from_occurred_at < event <
-- to_occurred_at), counted by kind. Every pair is a row: down (the second opinion worse),
-- up (better) and steady pairs, the control group of mart_sentiment_drivers_monthly.
--
-- When each kind happened: a call at its start (inbound calls; offered = not out of hours,
-- missed = offered and not answered, abandoned = hung up in the IVR or the queue, not
-- resolved = answered but the caller called again within first_call_resolution_days); a
-- ticket opened at its creation; an SLA breach at the ticket's first-response deadline (the
-- moment the customer had waited too long); a reopening when the ticket left closed (the
-- is_reopening status changes of fct_ticket_history); an order (counted, i.e. not
-- cancelled) at its creation; a cancellation at the first order version that shows it; a
-- refund at the first version with a refund (orders that still count); an abandoned cart
-- when its conversion window closed.
-- Reviews are opinions themselves, so no review lies between two consecutive opinions.
--
-- Counting without joining events to pairs: one sort per customer of the events and the
-- opinions, running sums per kind (events up to and including each moment), and the count
-- between two opinions is the running sum just before the later one minus the running sum
-- at the earlier one.
--
-- Incremental (strategy recent_rows, macros/journey_analytics.sql): a run recomputes the
-- pairs whose later opinion is dated from recompute_from on (the window start minus the
-- late-data lookback) and reads only the events of those customers since their earlier
-- opinion. An erased customer's pairs are deleted by the post-hook.
{{ config(
    materialized='incremental',
    recompute_column='to_date',
    unique_key='to_journey_event_id',
    on_schema_change='fail',
    post_hook="{{ delete_where(this, 'customer_id in (select contact_id from '
        ~ ref('stg_crm__contacts') ~ ' where is_archived)') }}",
    **incremental_on('recent_rows', partition_by='to_date'),
) }}
{%- set kinds = sentiment_interaction_kinds() %}
{%- set journey = ref('fct_customer_journey') %}

with
{% if is_incremental() %}
{%- set recompute_day = recent_rows_start('to_date') %}
recent_customers as (
    select distinct customer_id
    from {{ journey }}
    where touchpoint in ('survey_answered', 'review_posted')
        and event_date >= {{ recompute_day }}
        and customer_id is not null
),
{% endif %}

opinions as (
    select
        journey.journey_event_id,
        journey.customer_id,
        journey.occurred_at,
        journey.event_date,
        case
            when journey.touchpoint = 'review_posted' then 'review'
            else lower(coalesce(surveys.survey_type, 'survey'))
        end as opinion_kind,
        journey.score,
        journey.sentiment
    from {{ journey }} as journey
    left join {{ ref('int_survey_responses_scored') }} as surveys
        on journey.touchpoint = 'survey_answered' and journey.source_record_id = surveys.submission_id
    where journey.touchpoint in ('survey_answered', 'review_posted')
        and journey.customer_id is not null
        and journey.sentiment is not null
    {%- if is_incremental() %}
        and journey.customer_id in (select recent_customers.customer_id from recent_customers)
    {%- endif %}
),

pairs as (
    select *
    from (
        select
            opinions.customer_id,
            lag(opinions.journey_event_id) over customer_opinions as from_journey_event_id,
            lag(opinions.opinion_kind) over customer_opinions as from_opinion_kind,
            lag(opinions.score) over customer_opinions as from_score,
            lag(opinions.sentiment) over customer_opinions as from_sentiment,
            lag(opinions.occurred_at) over customer_opinions as from_occurred_at,
            lag(opinions.event_date) over customer_opinions as from_date,
            opinions.journey_event_id as to_journey_event_id,
            opinions.opinion_kind as to_opinion_kind,
            opinions.score as to_score,
            opinions.sentiment as to_sentiment,
            opinions.occurred_at as to_occurred_at,
            opinions.event_date as to_date
        from opinions
        window customer_opinions as (
            partition by opinions.customer_id order by opinions.occurred_at, opinions.journey_event_id
        )
    ) as lagged
    where from_journey_event_id is not null
    {%- if is_incremental() %}
        and to_date >= {{ recompute_day }}
    {%- endif %}
),

scope as (
    -- the customers with a pair to compute, and the earliest moment their events matter
    select customer_id, min(from_occurred_at) as since
    from pairs
    group by customer_id
),

calls as (
    select
        calls.customer_id, calls.started_at as occurred_at, calls.is_offered, calls.is_answered,
        calls.is_abandoned, calls.is_first_call_resolution
    from {{ ref('int_calls_measured') }} as calls
    inner join scope on calls.customer_id = scope.customer_id and calls.started_at >= scope.since
    where calls.is_inbound
),

tickets as (
    select tickets.ticket_id, tickets.customer_id, tickets.created_at, tickets.sla_due_at, tickets.is_sla_breached
    from {{ ref('int_tickets_measured') }} as tickets
    inner join scope on tickets.customer_id = scope.customer_id
),

orders as (
    select
        orders.order_id, orders.customer_id, orders.ordered_at, orders.refunded_at, orders.is_counted,
        orders.is_cancelled
    from {{ ref('int_orders_converted') }} as orders
    inner join scope on orders.customer_id = scope.customer_id
),

cancellations as (
    -- the moment an order was cancelled: its first version that shows it
    select versions.order_id, min(versions.updated_at) as cancelled_at
    from {{ ref('stg_crm__order_versions') }} as versions
    where (versions.fulfillment_status = 'cancelled' or versions.is_archived)
        and versions.order_id in (
            select orders.order_id from orders
            where orders.is_cancelled
        )
    group by versions.order_id
),

events as (
    {{ flag_row(kinds, 'customer_id', 'occurred_at', {
        'calls_offered': 'case when is_offered then 1 else 0 end',
        'calls_missed': 'case when is_offered and not is_answered then 1 else 0 end',
        'calls_abandoned': 'case when is_abandoned then 1 else 0 end',
        'calls_not_resolved': 'case when is_answered and not is_first_call_resolution then 1 else 0 end',
    }) }}
    from calls
    union all
    {{ flag_row(kinds, 'customer_id', 'created_at', {'tickets_opened': '1'}) }}
    from tickets
    union all
    {{ flag_row(kinds, 'customer_id', 'sla_due_at', {'tickets_sla_breached': '1'}) }}
    from tickets
    where is_sla_breached
    union all
    {{ flag_row(kinds, 'tickets.customer_id', 'reopens.entered_at', {'tickets_reopened': '1'}) }}
    from {{ ref('fct_ticket_history') }} as reopens
    inner join tickets on reopens.ticket_id = tickets.ticket_id
    where reopens.is_reopening
    union all
    {{ flag_row(kinds, 'customer_id', 'ordered_at', {'orders_placed': '1'}) }}
    from orders
    where is_counted
    union all
    {{ flag_row(kinds, 'orders.customer_id', 'cancellations.cancelled_at', {'orders_cancelled': '1'}) }}
    from orders
    inner join cancellations on orders.order_id = cancellations.order_id
    where cancellations.cancelled_at < {{ as_of_end() }}
    union all
    {{ flag_row(kinds, 'customer_id', 'refunded_at', {'orders_refunded': '1'}) }}
    from orders
    where is_counted and refunded_at < {{ as_of_end() }}
    union all
    {{ flag_row(kinds, 'carts.customer_id', 'carts.window_ends_at', {'carts_abandoned': '1'}) }}
    from {{ ref('int_carts_summarised') }} as carts
    inner join scope on carts.customer_id = scope.customer_id
    where carts.cart_status = 'abandoned'
),

stream as (
    select events.*
    from events
    inner join scope on events.customer_id = scope.customer_id
    where events.occurred_at >= scope.since
    union all
    select
        opinions.customer_id, opinions.occurred_at,
        {%- for kind in kinds %}
        0,
        {%- endfor %}
        1, opinions.journey_event_id
    from opinions
    inner join scope on opinions.customer_id = scope.customer_id
    where opinions.occurred_at >= scope.since
),

running as (
    -- per opinion and kind: events up to and including its moment (through) and strictly
    -- before it (before = through minus the events of that very moment)
    select *
    from (
        select
            customer_id,
            journey_event_id,
            is_opinion
            {%- for kind in kinds %},
            sum({{ kind }}) over (
                partition by customer_id order by occurred_at range between unbounded preceding and current row
            ) as {{ kind }}_through,
            sum({{ kind }}) over (
                partition by customer_id order by occurred_at range between unbounded preceding and current row
            ) - sum({{ kind }}) over (
                partition by customer_id, occurred_at
            ) as {{ kind }}_before{% endfor %}
        from stream
    ) as summed
    where is_opinion = 1
)

select
    pairs.customer_id,
    pairs.from_journey_event_id,
    pairs.from_opinion_kind,
    pairs.from_score,
    pairs.from_sentiment,
    pairs.from_occurred_at,
    pairs.from_date,
    pairs.to_journey_event_id,
    pairs.to_opinion_kind,
    pairs.to_score,
    pairs.to_sentiment,
    pairs.to_occurred_at,
    pairs.to_date,
    cast({{ dbt.date_trunc('month', 'pairs.to_date') }} as date) as month_start,
    -- the datediff renders longer than a line on DuckDB
    {{ dbt.datediff('pairs.from_date', 'pairs.to_date', 'day') }} as days_between,  -- noqa: LT05
    case
        when {{ sentiment_rank('pairs.to_sentiment') }} < {{ sentiment_rank('pairs.from_sentiment') }} then 'down'
        when {{ sentiment_rank('pairs.to_sentiment') }} > {{ sentiment_rank('pairs.from_sentiment') }} then 'up'
        else 'steady'
    end as direction
    {%- for kind in kinds %},
    cast(
        case
            when pairs.to_occurred_at > pairs.from_occurred_at
                then to_running.{{ kind }}_before - from_running.{{ kind }}_through
            else 0
        end as {{ dbt.type_bigint() }}
    ) as {{ kind }}{% endfor %}
from pairs
inner join running as to_running on pairs.to_journey_event_id = to_running.journey_event_id
inner join running as from_running on pairs.from_journey_event_id = from_running.journey_event_id
{{ full_refresh_order_by('to_date') }}
