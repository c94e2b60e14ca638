-- One row per support schedule x local date x opening interval: when the team is open, in
-- UTC. Generated from var support_schedules (orchestration.yaml support_schedules, passed by
-- Dagster; the built-in always_open schedule, 24x7, needs no rows and has none), no seed: each
-- local date from the day before the first ticket to the day after `as_of` gets the opening
-- intervals of its ISO weekday, unless it is one of the schedule's holidays. The interval is
-- built in local wall-clock time on that date and converted to UTC per date, so the offset
-- follows daylight saving time (09:00-17:00 Europe/Warsaw is 08:00-16:00 UTC in winter,
-- 07:00-15:00 UTC in summer). A close at 24:00 is midnight at the start of the next local day.
{%- set schedules = var('support_schedules') %}
{%- set hour_rows = [] %}
{%- set holiday_rows = [] %}
{%- for name, schedule in schedules.items() %}
    {%- for weekday, intervals in schedule['hours'].items() %}
        {%- for interval in intervals %}
            {%- do hour_rows.append("select '" ~ name ~ "' as schedule_name, '" ~ schedule['timezone'] ~ "' as timezone_name, "
                ~ (weekday | int) ~ " as iso_weekday, " ~ (interval[0] | int) ~ " as opens_minute, "
                ~ (interval[1] | int) ~ " as closes_minute") %}
        {%- endfor %}
    {%- endfor %}
    {%- for holiday in schedule.get('holidays', []) %}
        {%- do holiday_rows.append("select '" ~ name ~ "' as schedule_name, cast('" ~ holiday ~ "' as date) as holiday_date") %}
    {%- endfor %}
{%- endfor %}

with tickets as (
    select created_at from {{ ref('stg_crm__tickets') }}
),

bounds as (
    select
        cast({{ dbt.dateadd('day', -1, 'min(created_at)') }} as date) as first_local_date,
        cast({{ dbt.dateadd('day', 1, as_of_date()) }} as date) as last_local_date
    from tickets
),

local_dates as (
    {{ day_spine('(select first_local_date from bounds)', '(select last_local_date from bounds)', 'local_date') }}
),

weekly_hours as (
    {%- if hour_rows %}
    {{ hour_rows | join('\n    union all\n    ') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as schedule_name,
        cast(null as {{ dbt.type_string() }}) as timezone_name,
        cast(null as integer) as iso_weekday,
        cast(null as integer) as opens_minute,
        cast(null as integer) as closes_minute
    where 1 = 0
    {%- endif %}
),

holidays as (
    {%- if holiday_rows %}
    {{ holiday_rows | join('\n    union all\n    ') }}
    {%- else %}
    select cast(null as {{ dbt.type_string() }}) as schedule_name, cast(null as date) as holiday_date
    where 1 = 0
    {%- endif %}
),

open_days as (
    select
        weekly_hours.schedule_name,
        weekly_hours.timezone_name,
        local_dates.local_date,
        weekly_hours.opens_minute,
        weekly_hours.closes_minute
    from local_dates
    inner join weekly_hours
        on {{ iso_weekday('local_dates.local_date') }} = weekly_hours.iso_weekday
    left join holidays
        on
            weekly_hours.schedule_name = holidays.schedule_name
            and local_dates.local_date = holidays.holiday_date
    where local_dates.local_date is not null
        and holidays.holiday_date is null
),

converted as (
    select
        schedule_name,
        local_date,
        {{ local_to_utc(dbt.dateadd('minute', 'opens_minute', 'cast(local_date as timestamp)'), 'timezone_name') }}
            as opens_at,
        {{ local_to_utc(dbt.dateadd('minute', 'closes_minute', 'cast(local_date as timestamp)'), 'timezone_name') }}
            as closes_at
    from open_days
)

select
    schedule_name,
    local_date,
    opens_at,
    closes_at
from converted
