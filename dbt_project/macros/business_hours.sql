{#- Business-hours helpers for the support schedules (docs/service-marts.md). -#}

{#- A local wall-clock timestamp (no zone) in time zone `tz` (an SQL string expression: a
    literal or a column) as a UTC timestamp. DST-correct: 09:00 in Europe/Warsaw is 08:00 UTC
    in winter and 07:00 UTC in summer. -#}
{% macro local_to_utc(expression, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'journey')(expression, tz)) }}
{%- endmacro %}
{% macro default__local_to_utc(expression, tz) -%}
    cast(timezone('UTC', timezone({{ tz }}, cast({{ expression }} as timestamp))) as timestamp)
{%- endmacro %}
{% macro spark__local_to_utc(expression, tz) -%}
    to_utc_timestamp(cast({{ expression }} as timestamp), {{ tz }})
{%- endmacro %}

{#- ISO day of the week of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_weekday(expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'journey')(expression)) }}
{%- endmacro %}
{% macro default__iso_weekday(expression) -%}
    cast(extract(isodow from {{ expression }}) as integer)
{%- endmacro %}
{% macro spark__iso_weekday(expression) -%}
    ((dayofweek({{ expression }}) + 5) % 7 + 1)
{%- endmacro %}

{#- Microseconds of the overlap of [start_a, end_a) with [start_b, end_b); 0 when they do
    not overlap. Exact (no rounding to seconds), so a business-hours SLA compares like the
    calendar one. -#}
{% macro overlap_microseconds(start_a, end_a, start_b, end_b) -%}
    case
        when least({{ end_a }}, {{ end_b }}) > greatest({{ start_a }}, {{ start_b }})
            then {{ microseconds_between('greatest(' ~ start_a ~ ', ' ~ start_b ~ ')', 'least(' ~ end_a ~ ', ' ~ end_b ~ ')') }}
        else 0
    end
{%- endmacro %}
