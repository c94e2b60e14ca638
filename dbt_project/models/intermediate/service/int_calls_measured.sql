-- One row per call started before the end of `as_of`, with the contract's call flags
-- (CONTRACT §4, inbound only for the KPIs): out_of_hours (reason out_of_opening_hours),
-- offered (inbound, not out of hours), short_abandoned, answered (answered_at set),
-- abandoned (not answered, reason abandoned_in_ivr / abandoned_in_classic). Speed of answer
-- = answered_at - started_at; handle time = ended_at - answered_at. An answered call is
-- resolved first time when the same caller does not call again within
-- first_call_resolution_days after it started (known only up to `as_of`).
with calls as (
    select * from {{ ref('int_calls_identified') }}
),

flagged as (
    select
        calls.*,
        {{ reporting_date('calls.started_at') }} as call_date,
        calls.direction = 'inbound' as is_inbound,
        calls.direction = 'inbound' and coalesce(calls.missed_call_reason = 'out_of_opening_hours', false)
            as is_out_of_hours,
        calls.direction = 'inbound' and coalesce(calls.missed_call_reason, '') <> 'out_of_opening_hours'
            as is_offered,
        calls.direction = 'inbound' and coalesce(calls.missed_call_reason = 'short_abandoned', false)
            as is_short_abandoned,
        calls.answered_at is not null as is_answered,
        calls.direction = 'inbound' and calls.answered_at is null
        and coalesce(calls.missed_call_reason in ('abandoned_in_ivr', 'abandoned_in_classic'), false)
            as is_abandoned,
        -- the two datediffs render longer than a line on DuckDB
        {{ seconds_between('calls.started_at', 'calls.answered_at') }} as speed_of_answer_seconds,  -- noqa: LT05
        {{ seconds_between('calls.answered_at', 'calls.ended_at') }} as handle_seconds  -- noqa: LT05
    from calls
),

next_calls as (
    select
        flagged.call_id,
        min(later.started_at) as next_call_at
    from flagged
    inner join flagged as later
        on flagged.caller_phone_e164 = later.caller_phone_e164
            and later.is_inbound
            and flagged.started_at < later.started_at
            and later.started_at <= {{ dbt.dateadd('day', var('first_call_resolution_days'), 'flagged.started_at') }}
    where flagged.is_inbound and flagged.is_answered
    group by flagged.call_id
)

select
    flagged.*,
    flagged.is_inbound and flagged.is_answered and next_calls.next_call_at is null
        as is_first_call_resolution
from flagged
left join next_calls on flagged.call_id = next_calls.call_id
