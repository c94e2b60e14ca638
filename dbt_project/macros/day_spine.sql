{#- One row per day from start_date to end_date inclusive (both SQL date expressions);
    what dbt_utils.date_spine does, written here because package hubs are out of reach (named
    day_spine: dbt's own date_spine family would otherwise meet ours in the dispatch order).
    A recursive CTE where the warehouse has one (DuckDB, Trino, PostgreSQL); Spark's stops
    at 100 levels, so there a sequence of days is exploded instead. -#}
{% macro day_spine(start_date, end_date, column_name='date_day') -%}
    {{ return(adapter.dispatch('day_spine', 'journey')(start_date, end_date, column_name)) }}
{%- endmacro %}
{% macro default__day_spine(start_date, end_date, column_name) -%}
    with recursive spine ({{ column_name }}) as (
        select cast({{ start_date }} as date)
        union all
        select cast({{ dbt.dateadd('day', 1, column_name) }} as date)
        from spine
        where {{ column_name }} < cast({{ end_date }} as date)
    )
    select {{ column_name }} from spine
{%- endmacro %}
{% macro spark__day_spine(start_date, end_date, column_name) -%}
    select explode(sequence(cast({{ start_date }} as date), greatest(cast({{ start_date }} as date), cast({{ end_date }} as date)), interval 1 day)) as {{ column_name }}
{%- endmacro %}
