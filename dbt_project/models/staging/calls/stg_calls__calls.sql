-- One row per Aircall call (a re-sent call keeps its first delivery), started before the end of `as_of`.
with source as (
    select * from {{ source('calls', 'calls') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as call_id,
        lower({{ json_text('record', '$.direction') }}) as direction,
        lower({{ json_text('record', '$.status') }}) as status,
        {{ unix_to_utc(json_text('record', '$.started_at')) }} as started_at,
        {{ unix_to_utc(json_text('record', '$.answered_at')) }} as answered_at,
        {{ unix_to_utc(json_text('record', '$.ended_at')) }} as ended_at,
        cast({{ json_text('record', '$.duration') }} as {{ dbt.type_int() }}) as duration_seconds,
        {{ json_text('record', '$.missed_call_reason') }} as missed_call_reason,
        phone_e164 as caller_phone_e164,
        {{ json_text('record', '$.user.id') }} as agent_user_id,
        lower(trim({{ json_text('record', '$.user.email') }})) as agent_email,
        {{ json_text('record', '$.number.id') }} as line_id,
        {{ json_text('record', '$.number.name') }} as line_name,
        upper({{ json_text('record', '$.number.country') }}) as line_country,
        {{ json_text('record', '$.number.time_zone') }} as line_time_zone,
        coalesce(cast({{ json_text('record', '$.archived') }} as boolean), false) as is_archived,
        _dt,
        _file_path,
        _line_number
    from source
),

deduplicated as (
    {{ latest_per_key('parsed', 'call_id', '_dt asc, _file_path asc, _line_number asc') }}
)

select
    call_id,
    direction,
    status,
    started_at,
    answered_at,
    ended_at,
    duration_seconds,
    missed_call_reason,
    caller_phone_e164,
    agent_user_id,
    agent_email,
    line_id,
    line_name,
    line_country,
    line_time_zone,
    is_archived,
    _dt as received_dt
from deduplicated
where started_at < {{ as_of_end() }}
