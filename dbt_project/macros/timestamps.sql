{#- Timestamps in the warehouse are UTC, stored without a zone. -#}

{#- An ISO-8601 string with any offset ('...+01:00', '...Z') as a UTC timestamp. -#}
{% macro iso_to_utc(expression) -%}
    {{ return(adapter.dispatch('iso_to_utc', 'journey')(expression)) }}
{%- endmacro %}
{% macro default__iso_to_utc(expression) -%}
    cast(timezone('UTC', cast({{ expression }} as timestamptz)) as timestamp)
{%- endmacro %}
{% macro spark__iso_to_utc(expression) -%}
    to_utc_timestamp(cast({{ expression }} as timestamp), current_timezone())
{%- endmacro %}

{#- Unix seconds as a UTC timestamp. -#}
{% macro unix_to_utc(expression) -%}
    {{ return(adapter.dispatch('unix_to_utc', 'journey')(expression)) }}
{%- endmacro %}
{% macro default__unix_to_utc(expression) -%}
    cast(timezone('UTC', to_timestamp(cast({{ expression }} as bigint))) as timestamp)
{%- endmacro %}
{% macro spark__unix_to_utc(expression) -%}
    to_utc_timestamp(timestamp_seconds(cast({{ expression }} as bigint)), current_timezone())
{%- endmacro %}

{#- The calendar date of a UTC timestamp in the reporting time zone (CONTRACT §3). -#}
{% macro reporting_date(expression) -%}
    {%- set tz = var('reporting_timezone', 'UTC') -%}
    {%- if tz == 'UTC' -%}
        cast({{ expression }} as date)
    {%- else -%}
        {{ return(adapter.dispatch('reporting_date', 'journey')(expression, tz)) }}
    {%- endif -%}
{%- endmacro %}
{% macro default__reporting_date(expression, tz) -%}
    cast(timezone('{{ tz }}', timezone('UTC', {{ expression }})) as date)
{%- endmacro %}
{% macro spark__reporting_date(expression, tz) -%}
    cast(from_utc_timestamp({{ expression }}, '{{ tz }}') as date)
{%- endmacro %}

{#- The last day a run covers: var('as_of'), else the newest dt= loaded. -#}
{% macro as_of_date() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as date)
    {%- else -%}
        (select max(dt) from {{ source('audit', 'load_counts') }})
    {%- endif -%}
{%- endmacro %}

{#- Midnight after as_of: data at or after it is ignored (CONTRACT §4). -#}
{% macro as_of_end() -%}
    cast({{ dbt.dateadd('day', 1, as_of_date()) }} as timestamp)
{%- endmacro %}

{#- Microseconds from `start` to `finish` (exact, negative when finish is earlier). dbt's
    datediff in microseconds on Spark reads the fraction from the timestamp's text and
    loses it for whole seconds; Spark counts them itself with unix_micros. -#}
{% macro microseconds_between(start, finish) -%}
    {{ return(adapter.dispatch('microseconds_between', 'journey')(start, finish)) }}
{%- endmacro %}
{% macro default__microseconds_between(start, finish) -%}
    {{ dbt.datediff(start, finish, 'microsecond') }}
{%- endmacro %}
{% macro spark__microseconds_between(start, finish) -%}
    (unix_micros(cast({{ finish }} as timestamp)) - unix_micros(cast({{ start }} as timestamp)))
{%- endmacro %}

{#- Whole seconds between two timestamps (portable). -#}
{% macro seconds_between(start, finish) -%}
    {{ dbt.datediff(start, finish, 'second') }}
{%- endmacro %}

{#- When this dbt invocation started (UTC), as a timestamp literal: a watermark that tells a
    downstream incremental model which rows an upstream one rewrote since it last ran. -#}
{% macro run_started_at_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
