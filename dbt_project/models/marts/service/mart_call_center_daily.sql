-- One row per call date x phone line (Aircall number name), inbound calls only (CONTRACT §3, §4).
-- offered = inbound - out_of_hours; missed = offered - answered. Short-abandoned calls (the
-- caller hung up within the vendor's short-abandon threshold) stay in offered but leave both
-- denominators: abandonment_rate = abandoned / (offered - short_abandoned);
-- service_level_pct = 100 x answered within service_level_seconds of started_at (inclusive)
-- / (offered - short_abandoned). Averages are over answered calls; first_call_resolution_rate
-- = answered calls with no repeat call by the same caller within first_call_resolution_days
-- / answered. Every count and *_sum is additive, so a BI tool can sum them over any slice and
-- recompute each ratio from its numerator and denominator columns.
{%- set service_level_seconds = var('service_level_seconds') %}
with calls as (
    select * from {{ ref('int_calls_measured') }}
),

inbound_calls as (
    select
        calls.call_date,
        calls.is_out_of_hours,
        calls.is_offered,
        calls.is_short_abandoned,
        calls.is_abandoned,
        coalesce(calls.line_name, 'unknown') as line_name,
        calls.is_offered and calls.is_answered as is_answered,
        calls.is_offered and calls.is_first_call_resolution as is_first_call_resolution,
        (
            calls.is_offered and calls.is_answered
            and calls.speed_of_answer_seconds <= {{ service_level_seconds }}
        ) as is_answered_within_target,
        case when calls.is_offered and calls.is_answered then calls.speed_of_answer_seconds end
            as speed_of_answer_seconds,
        case when calls.is_offered and calls.is_answered then calls.handle_seconds end as handle_seconds
    from calls
    where calls.is_inbound
),

counted as (
    select
        call_date,
        line_name,
        count(*) as inbound_calls,
        count(case when is_out_of_hours then 1 end) as out_of_hours_calls,
        count(case when is_offered then 1 end) as offered_calls,
        count(case when is_short_abandoned then 1 end) as short_abandoned_calls,
        count(case when is_answered then 1 end) as answered_calls,
        count(case when is_abandoned then 1 end) as abandoned_calls,
        count(case when is_answered_within_target then 1 end) as answered_within_target_calls,
        count(case when is_first_call_resolution then 1 end) as first_call_resolved_calls,
        cast(coalesce(sum(speed_of_answer_seconds), 0) as {{ dbt.type_bigint() }})
            as speed_of_answer_seconds_sum,
        cast(coalesce(sum(handle_seconds), 0) as {{ dbt.type_bigint() }}) as handle_seconds_sum,
        count(handle_seconds) as calls_with_handle_time
    from inbound_calls
    group by call_date, line_name
),

bases as (
    select
        counted.*,
        counted.offered_calls - counted.answered_calls as missed_calls,
        counted.offered_calls - counted.short_abandoned_calls as offered_calls_excluding_short_abandoned
    from counted
),

measured as (
    select
        call_date,
        line_name,
        inbound_calls,
        out_of_hours_calls,
        offered_calls,
        short_abandoned_calls,
        answered_calls,
        abandoned_calls,
        missed_calls,
        offered_calls_excluding_short_abandoned,
        answered_within_target_calls,
        first_call_resolved_calls,
        speed_of_answer_seconds_sum,
        handle_seconds_sum,
        calls_with_handle_time,
        round(
            {{ safe_divide('abandoned_calls', 'offered_calls_excluding_short_abandoned') }}, 6
        ) as abandonment_rate,
        round(
            100.0 * {{ safe_divide('answered_within_target_calls', 'offered_calls_excluding_short_abandoned') }}, 4
        ) as service_level_pct,
        round(
            {{ safe_divide('speed_of_answer_seconds_sum', 'answered_calls') }}, 4
        ) as avg_speed_of_answer_seconds,
        round({{ safe_divide('handle_seconds_sum', 'calls_with_handle_time') }}, 4) as avg_handle_seconds,
        round({{ safe_divide('first_call_resolved_calls', 'answered_calls') }}, 6) as first_call_resolution_rate
    from bases
)

select * from measured
