{#- One row per day from start_date to end_date inclusive (both SQL date expressions);
    what dbt_utils.date_spine does, written here because package hubs are out of reach.
    Uses a recursive CTE (DuckDB, Trino, PostgreSQL). Spark 3.x has no recursive CTEs: there,
    generate the days with month_spine's digit cross-join instead. -#}
{% macro date_spine(start_date, end_date, column_name='date_day') -%}
    with recursive spine ({{ column_name }}) as (
        select cast({{ start_date }} as date)
        union all
        select cast({{ dbt.dateadd('day', 1, column_name) }} as date)
        from spine
        where {{ column_name }} < cast({{ end_date }} as date)
    )
    select {{ column_name }} from spine
{%- endmacro %}
